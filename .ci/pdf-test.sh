#!/usr/bin/env bash
# The invoice documents of a month close, read back as a customer's tools
# read them (issue 27): tests/it/invoice_documents.rs closes a month over the
# demo data plus a 60-line invoice to "Müller & Søn Łódź 株式会社" and writes
# every PDF, its Factur-X XML and the API's figures to a folder;
# .ci/pdf-check.py checks them with pdfplumber and factur-x (PyPI).
#   pdf-test.sh [--pictures FOLDER]   also writes each page as a PNG
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${PDF_VENV:-/var/cache/billing-console/pdf-venv}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import facturx, pdfplumber' 2>/dev/null; then
  python3 -m venv "$venv" >/dev/null 2>&1 || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$venv"
  }
  "$venv/bin/pip" install -q factur-x==7.8 pdfplumber==0.11.11
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
INVOICE_DOCUMENTS_OUT="$work" cargo test --features ssr --test it -- \
  invoice_documents::a_month_close_gives_pdfs_with_their_e_invoice_and_every_name_as_written::sqlite
"$venv/bin/python" .ci/pdf-check.py "$work" "$@"
