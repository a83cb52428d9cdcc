"""Checks the invoice documents a month close produced (issue 27).

Reads the folder `tests/it/invoice_documents.rs` writes (INVOICE_DOCUMENTS_OUT):
for each document a PDF, for an issued invoice its XML, and a JSON file with
the figures the API shows. With pdfplumber (PyPI) it asserts what a reader
would notice:
  - no drawn horizontal line crosses a word (no struck-through text);
  - no word leaves the page's margins, no two words on a line overlap (no
    text spilling out of its cell), no "…" (nothing cut);
  - every page says "Page N of M";
  - the customer's name extracts exactly as written (Unicode included);
  - the total incl. VAT printed is the API's;
  - an issued invoice prints its IBAN and RF payment reference; the estimate
    says it is not an invoice and asks for no payment.
With factur-x (PyPI) it extracts the attached XML, validates it against the
Factur-X EN 16931 XSD, and checks its totals against the API's, and that the
XMP metadata declares the Factur-X conformance level.

usage: pdf-check.py FOLDER [--pictures FOLDER]   (PNG pages, for docs/screenshots)
"""

import glob
import json
import os
import re
import sys

import facturx
import pdfplumber
from lxml import etree

NS = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}
MARGIN = 30.0  # points; the layout keeps 42
failures = []


def fail(where, what):
    failures.append(f"{where}: {what}")


def horizontal_rules(page):
    rules = []
    for line in page.lines:
        if abs(line["top"] - line["bottom"]) < 0.5:
            rules.append((line["x0"], line["x1"], (line["top"] + line["bottom"]) / 2))
    for rect in page.rects:
        if rect["height"] < 1.5:
            rules.append((rect["x0"], rect["x1"], (rect["top"] + rect["bottom"]) / 2))
    return rules


def check_page(where, page, number, count):
    words = page.extract_words(keep_blank_chars=False, use_text_flow=False)
    for x0, x1, y in horizontal_rules(page):
        for word in words:
            if word["x1"] > x0 and word["x0"] < x1 and word["top"] < y < word["bottom"]:
                fail(where, f"a rule at y={y:.1f} strikes through {word['text']!r}")
    for word in words:
        if (word["x0"] < MARGIN or word["x1"] > page.width - MARGIN
                or word["top"] < MARGIN or word["bottom"] > page.height - MARGIN + 10):
            fail(where, f"{word['text']!r} leaves the page's margins")
    for i, a in enumerate(words):
        for b in words[i + 1:]:
            same_line = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > 0.5 * (a["bottom"] - a["top"])
            overlap = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
            if same_line and overlap > 0.5:
                fail(where, f"{a['text']!r} and {b['text']!r} overlap: text out of its cell")
    text = page.extract_text() or ""
    if "\u2026" in text:
        fail(where, "an ellipsis: text was cut")
    if f"Page {number} of {count}" not in text:
        fail(where, f"no 'Page {number} of {count}'")
    return text


def xml_amount(tree, tag):
    found = tree.find(f".//ram:{tag}", NS)
    return found.text if found is not None else None


def check_document(pdf_path, pictures):
    where = os.path.basename(pdf_path)
    facts = json.load(open(pdf_path[:-4] + ".json", encoding="utf-8"))
    with pdfplumber.open(pdf_path) as pdf:
        count = len(pdf.pages)
        text = "\n".join(check_page(f"{where} p{n + 1}", page, n + 1, count)
                         for n, page in enumerate(pdf.pages))
        metadata = pdf.doc.catalog.get("Metadata")
        xmp = metadata.resolve().get_data().decode("utf-8") if metadata is not None else ""
        if pictures:
            os.makedirs(pictures, exist_ok=True)
            for n, page in enumerate(pdf.pages):
                page.to_image(resolution=80).save(os.path.join(pictures, f"{where[:-4]}-p{n + 1}.png"))
    if facts["customer"] and facts["customer"] not in text:
        fail(where, f"the customer {facts['customer']!r} does not extract as written")
    total_line = re.search(r"Total incl\. VAT \(\w+\) ([-\d,.]+)", text)
    if not total_line or total_line.group(1) != facts["total_inc_vat_grouped"]:
        fail(where, f"total incl. VAT printed {total_line and total_line.group(1)!r}, the API says {facts['total_inc_vat_grouped']}")

    name, xml = facturx.get_xml_from_pdf(open(pdf_path, "rb").read(), check_xsd=False)
    if facts["estimate"]:
        if xml:
            fail(where, "the estimate carries an e-invoice")
        if "not an invoice" not in text or "IBAN" in text:
            fail(where, "the estimate must say it is not an invoice and give no IBAN")
        return count, text
    if facts["payment_reference"]:
        for value in (facts["payment_reference"], facts["iban"]):
            if value not in text:
                fail(where, f"{value!r} is not printed")
    if name != "factur-x.xml" or not xml:
        fail(where, "no factur-x.xml attached")
        return count, text
    try:
        facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    except Exception as error:  # the package raises its own error types
        fail(where, f"the XML fails the Factur-X EN 16931 XSD: {error}")
    if xml != open(pdf_path[:-4] + ".xml", "rb").read():
        fail(where, "the attached XML is not the one served at …/xml")
    tree = etree.fromstring(xml)
    # A credit note (type 381) states its amounts positive and names the
    # invoice it credits; the PDF and the API show them negative.
    credited = facts.get("credit_note")
    type_code = tree.findtext(".//{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}ExchangedDocument/ram:TypeCode", namespaces=NS)
    if type_code != ("381" if credited else "380"):
        fail(where, f"document type {type_code}")
    if credited and tree.findtext(".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID", namespaces=NS) != credited:
        fail(where, f"the credit note does not reference invoice {credited}")
    for tag, key in (("GrandTotalAmount", "total_inc_vat"), ("TaxBasisTotalAmount", "total_vat_zero"),
                     ("DuePayableAmount", None)):
        value = xml_amount(tree, tag)
        expected = key and (facts[key].lstrip("-") if credited else facts[key])
        if key and value != expected:
            fail(where, f"XML {tag} {value}, the API says {facts[key]}")
    check_xmp(where, xmp)
    return count, text


def check_xmp(where, xmp):
    """PDF/A-3 and Factur-X EN 16931, declared once each, in XMP that parses."""
    try:
        tree = etree.fromstring(xmp.split("?>", 1)[1].rsplit("<?xpacket", 1)[0].encode("utf-8"))
    except (etree.XMLSyntaxError, IndexError) as error:
        fail(where, f"the XMP does not parse: {error}")
        return
    ns = {"rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
          "pdfaExtension": "http://www.aiim.org/pdfa/ns/extension/",
          "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
          "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
          "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"}
    schemas = tree.findall(".//pdfaExtension:schemas", ns)
    if len(schemas) != 1:
        fail(where, f"{len(schemas)} pdfaExtension:schemas properties (XMP allows one)")
    described = [e.text for e in tree.findall(".//pdfaSchema:namespaceURI", ns)]
    if ns["fx"] not in described:
        fail(where, "the fx schema is not described for PDF/A")
    level = tree.findtext(".//fx:ConformanceLevel", namespaces=ns)
    part = tree.findtext(".//pdfaid:part", namespaces=ns)
    if level != "EN 16931" or part != "3":
        fail(where, f"the XMP declares Factur-X {level!r} and PDF/A part {part!r}")


def main():
    folder = sys.argv[1]
    pictures = sys.argv[sys.argv.index("--pictures") + 1] if "--pictures" in sys.argv else None
    pdfs = sorted(glob.glob(os.path.join(folder, "*.pdf")))
    if len(pdfs) < 5:
        print(f"pdf-check: only {len(pdfs)} documents in {folder}")
        return 1
    longest, unicode_seen = 0, False
    for path in pdfs:
        count, text = check_document(path, pictures)
        longest = max(longest, count)
        unicode_seen |= "Müller & Søn Łódź 株式会社" in text
    if longest < 3:
        fail(folder, "no document ran to three pages (the 60-line invoice)")
    if not unicode_seen:
        fail(folder, "the Unicode company name was not found in any document")
    for failure in failures:
        print("FAIL", failure)
    print(f"pdf-check: {len(pdfs)} documents, the longest {longest} pages, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
