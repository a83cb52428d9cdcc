//! How an invoice is paid by bank transfer (issue 27): the seller's IBAN
//! (ISO 13616, checksum verified) and BIC (ISO 9362), and each invoice's
//! structured creditor reference (ISO 11649, `RF…`), derived from its
//! number so any invoice can be found by the reference a payment carries.

use serde::{Deserialize, Serialize};

/// What a customer needs to pay an invoice by bank transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentInstructions {
    /// Grouped by four (`FI21 1234 5600 0007 85`).
    pub iban: String,
    pub bic: String,
    pub bank_name: String,
    /// `RF…`, grouped by four.
    pub reference: String,
}

/// Letters count 10 (A) to 35 (Z), digits as themselves: the ISO 7064
/// MOD 97-10 remainder of `text` (alphanumeric, already upper case).
fn mod97(text: &str) -> Option<u32> {
    let mut remainder: u32 = 0;
    for c in text.chars() {
        let value = c.to_digit(36)?;
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    Some(remainder)
}

/// `text` without spaces, upper case.
fn compact(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// `text` in groups of four, as IBANs and references are printed.
pub fn grouped_by_four(text: &str) -> String {
    text.chars()
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// An IBAN as written on an invoice (spaces allowed), checked: two
/// letters, two check digits, up to 30 letters and digits, MOD 97 = 1.
/// Returns it grouped by four.
pub fn iban(text: &str) -> Result<String, String> {
    let iban = compact(text);
    let well_formed = (15..=34).contains(&iban.len())
        && iban.chars().all(|c| c.is_ascii_alphanumeric())
        && iban[..2].chars().all(|c| c.is_ascii_alphabetic())
        && iban[2..4].chars().all(|c| c.is_ascii_digit());
    if !well_formed {
        return Err(format!(
            "'{}' is not an IBAN: two letters, two check digits, then the account (like FI21 1234 5600 0007 85).",
            text.trim()
        ));
    }
    let rearranged = format!("{}{}", &iban[4..], &iban[..4]);
    if mod97(&rearranged) != Some(1) {
        return Err(format!(
            "'{}' is not a valid IBAN: its check digits do not match (a typing mistake?).",
            text.trim()
        ));
    }
    Ok(grouped_by_four(&iban))
}

/// A BIC (SWIFT code): 4 letters (bank), 2 letters (country), 2 letters or
/// digits (location), optionally 3 more (branch). Returns it upper case.
pub fn bic(text: &str) -> Result<String, String> {
    let bic = compact(text);
    let ok = bic.is_ascii()
        && (bic.len() == 8 || bic.len() == 11)
        && bic[..6].chars().all(|c| c.is_ascii_alphabetic())
        && bic[6..].chars().all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(bic)
    } else {
        Err(format!(
            "'{}' is not a BIC: 8 or 11 letters and digits, like NDEAFIHH.",
            text.trim()
        ))
    }
}

/// The ISO 11649 creditor reference of an invoice number: its letters and
/// digits (at most 21) after `RF` and two check digits, grouped by four
/// (`53C2B3F9A8FC-0002` → `RF95 53C2 B3F9 A8FC 0002`).
pub fn creditor_reference(invoice_number: &str) -> String {
    let body: String = compact(invoice_number)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(21)
        .collect();
    let remainder = mod97(&format!("{body}RF00")).unwrap_or(0);
    grouped_by_four(&format!("RF{:02}{body}", 98 - remainder))
}

/// Whether `text` is a well-formed creditor reference (spaces allowed).
pub fn is_creditor_reference(text: &str) -> bool {
    let reference = compact(text);
    reference.is_ascii()
        && reference.len() >= 5
        && reference.len() <= 25
        && reference.starts_with("RF")
        && reference[2..4].chars().all(|c| c.is_ascii_digit())
        // MOD 97-10 makes check digits 02–98: "00" would pass the sum for
        // one body in 97 (the one whose digits are 97), so it is refused.
        && reference[2..4].parse::<u32>().is_ok_and(|d| (2..=98).contains(&d))
        && reference[4..].chars().all(|c| c.is_ascii_alphanumeric())
        && mod97(&format!("{}{}", &reference[4..], &reference[..4])) == Some(1)
}

/// What an invoice search asks for: an RF payment reference (as a payment
/// carries it, spaces and case as they come), or part of an invoice number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvoiceSearch {
    Reference(String),
    Number(String),
}

impl InvoiceSearch {
    /// Parses a search box; an `RF…` text whose check digits fail is a
    /// mistake to point out, not a search that finds nothing.
    pub fn parse(text: &str) -> Result<InvoiceSearch, String> {
        let compacted = compact(text);
        if compacted.starts_with("RF") && compacted[2..].starts_with(|c: char| c.is_ascii_digit()) {
            return if is_creditor_reference(&compacted) {
                Ok(InvoiceSearch::Reference(compacted))
            } else {
                Err(format!(
                    "{} is not a valid payment reference: its check digits do not match (ISO 11649).",
                    text.trim()
                ))
            };
        }
        Ok(InvoiceSearch::Number(compacted))
    }

    /// Whether the invoice numbered `invoice_number` is the one asked for.
    pub fn matches(&self, invoice_number: &str) -> bool {
        match self {
            InvoiceSearch::Reference(reference) => {
                compact(&creditor_reference(invoice_number)) == *reference
            }
            InvoiceSearch::Number(part) => compact(invoice_number).contains(part.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_outside_02_to_98_are_refused() {
        // A body whose reference has check digits 97 also passes the
        // mod-97 sum with 00; 00 is still a typo (the e2e search found one).
        let body = (0..10_000u32)
            .map(|n| format!("A{n:04}"))
            .find(|b| creditor_reference(b).starts_with("RF97"))
            .expect("a body with check digits 97");
        assert!(is_creditor_reference(&creditor_reference(&body)));
        assert!(!is_creditor_reference(&format!("RF00{body}")));
        assert!(InvoiceSearch::parse(&format!("RF00 {body}")).is_err());
    }

    #[test]
    fn ibans_are_checked_by_their_check_digits() {
        assert_eq!(
            iban("fi21 1234 5600 0007 85").unwrap(),
            "FI21 1234 5600 0007 85"
        );
        assert_eq!(
            iban("GB82WEST12345698765432").unwrap(),
            "GB82 WEST 1234 5698 7654 32"
        );
        assert_eq!(
            iban("DE89 3704 0044 0532 0130 00").unwrap(),
            "DE89 3704 0044 0532 0130 00"
        );
        // One digit typed wrong, two swapped, and not an IBAN at all.
        assert!(iban("FI21 1234 5600 0007 86")
            .unwrap_err()
            .contains("check digits"));
        assert!(iban("GB82 WEST 1234 5698 7654 23").is_err());
        assert!(iban("12345").unwrap_err().contains("not an IBAN"));
        assert!(iban("FI2X 1234 5600 0007 85").is_err());
    }

    #[test]
    fn bics_have_8_or_11_characters() {
        assert_eq!(bic("ndeafihh").unwrap(), "NDEAFIHH");
        assert_eq!(bic("DEUTDEFF500").unwrap(), "DEUTDEFF500");
        assert!(bic("NDEAFI").is_err());
        assert!(bic("1DEAFIHH").is_err());
        assert!(bic("NDEAFéHH").is_err());
        assert!(!is_creditor_reference("RFé8 5390"));
    }

    #[test]
    fn creditor_references_follow_iso_11649() {
        // The standard's own example.
        assert_eq!(creditor_reference("539007547034"), "RF18 5390 0754 7034");
        assert!(is_creditor_reference("RF18 5390 0754 7034"));
        assert!(!is_creditor_reference("RF19 5390 0754 7034"));
        // An invoice number: the hyphen goes, the check digits verify.
        let reference = creditor_reference("53C2B3F9A8FC-0002");
        assert!(reference.starts_with("RF"), "{reference}");
        assert_eq!(reference, "RF95 53C2 B3F9 A8FC 0002");
        assert!(is_creditor_reference(&reference), "{reference}");
        assert_ne!(
            creditor_reference("53C2B3F9A8FC-0002"),
            creditor_reference("53C2B3F9A8FC-0003")
        );
    }

    #[test]
    fn an_invoice_is_found_by_the_reference_its_payment_carries() {
        let number = "53C2B3F9A8FC-0002";
        let reference = creditor_reference(number);
        for typed in [
            reference.clone(),
            reference.replace(' ', ""),
            reference.to_lowercase(),
        ] {
            let search = InvoiceSearch::parse(&typed).unwrap();
            assert!(search.matches(number), "{typed}");
            assert!(!search.matches("53C2B3F9A8FC-0003"), "{typed}");
        }
        assert!(InvoiceSearch::parse("RF00 53C2 B3F9 A8FC 0002").is_err());
        assert!(InvoiceSearch::parse("a8fc-0002").unwrap().matches(number));
    }
}
