//! The card and VAT ID checks Billing information runs: Luhn, brand and
//! expiry of a card (only its last four digits are kept), and each EU
//! country's VAT ID format.

use chrono::{DateTime, Datelike, Utc};

use crate::model::countries::{country_name, EU_COUNTRIES};
use crate::server::store::StoredCard;

/// Luhn, brand, expiry in the future, name. Returns (field, message) pairs.
pub fn check_card(
    number: &str,
    expiry: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<StoredCard, Vec<(&'static str, String)>> {
    let mut problems = Vec::new();
    let digits: String = number
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if digits.is_empty() {
        problems.push(("card_number", "Enter the card number.".to_string()));
    } else if !digits.chars().all(|c| c.is_ascii_digit()) {
        problems.push(("card_number", "A card number has only digits.".to_string()));
    } else if !(12..=19).contains(&digits.len()) {
        problems.push((
            "card_number",
            "A card number has 12 to 19 digits.".to_string(),
        ));
    } else if !luhn_valid(&digits) {
        problems.push((
            "card_number",
            "This card number is not valid; check it for typos.".to_string(),
        ));
    }
    let (exp_month, exp_year) = match parse_expiry(expiry) {
        Some((month, year)) => {
            let this_month = (now.year() as i64, now.month() as i64);
            if (year, month) < this_month {
                problems.push(("card_expiry", "This card has expired.".to_string()));
            }
            (month, year)
        }
        None => {
            problems.push((
                "card_expiry",
                "Enter the expiry as MM/YY, for example 08/29.".to_string(),
            ));
            (0, 0)
        }
    };
    let name = name.trim();
    if name.is_empty() {
        problems.push(("card_name", "Enter the name on the card.".to_string()));
    } else if name.chars().count() > 128 {
        problems.push((
            "card_name",
            "The name on the card can be at most 128 characters.".to_string(),
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(StoredCard {
        brand: card_brand(&digits).to_string(),
        last4: digits[digits.len() - 4..].to_string(),
        exp_month,
        exp_year,
        name: name.to_string(),
    })
}

pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let Some(mut d) = c.to_digit(10) else {
            return false;
        };
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

fn card_brand(digits: &str) -> &'static str {
    let prefix = |n: usize| {
        digits
            .get(..n)
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0)
    };
    match () {
        _ if digits.starts_with('4') => "Visa",
        _ if (51..=55).contains(&prefix(2)) || (2221..=2720).contains(&prefix(4)) => "Mastercard",
        _ if prefix(2) == 34 || prefix(2) == 37 => "American Express",
        _ if prefix(4) == 6011 || prefix(2) == 65 || (644..=649).contains(&prefix(3)) => "Discover",
        _ => "Card",
    }
}

/// "MM/YY" or "MM/YYYY".
fn parse_expiry(value: &str) -> Option<(i64, i64)> {
    let (month, year) = value.trim().split_once('/')?;
    let month: i64 = month.trim().parse().ok()?;
    let year_text = year.trim();
    let year: i64 = year_text.parse().ok()?;
    let year = match year_text.len() {
        2 => 2000 + year,
        4 => year,
        _ => return None,
    };
    (1..=12).contains(&month).then_some((month, year))
}

/// The VAT number formats of the EU states (VIES) and a few others; the
/// letters are the country prefix, then `9` digit, `A` letter, `X` either.
fn vat_formats(country: &str) -> Option<(&'static str, &'static [&'static str])> {
    Some(match country {
        "AT" => ("AT", &["U99999999"]),
        "BE" => ("BE", &["9999999999"]),
        "BG" => ("BG", &["999999999", "9999999999"]),
        "CY" => ("CY", &["99999999A"]),
        "CZ" => ("CZ", &["99999999", "999999999", "9999999999"]),
        "DE" => ("DE", &["999999999"]),
        "DK" => ("DK", &["99999999"]),
        "EE" => ("EE", &["999999999"]),
        "GR" => ("EL", &["999999999"]),
        "ES" => ("ES", &["X9999999X"]),
        "FI" => ("FI", &["99999999"]),
        "FR" => ("FR", &["XX999999999"]),
        "HR" => ("HR", &["99999999999"]),
        "HU" => ("HU", &["99999999"]),
        "IE" => ("IE", &["9999999A", "9999999AA", "9A99999A"]),
        "IT" => ("IT", &["99999999999"]),
        "LT" => ("LT", &["999999999", "999999999999"]),
        "LU" => ("LU", &["99999999"]),
        "LV" => ("LV", &["99999999999"]),
        "MT" => ("MT", &["99999999"]),
        "NL" => ("NL", &["999999999B99"]),
        "PL" => ("PL", &["9999999999"]),
        "PT" => ("PT", &["999999999"]),
        "RO" => (
            "RO",
            &[
                "99",
                "999",
                "9999",
                "99999",
                "999999",
                "9999999",
                "99999999",
                "999999999",
                "9999999999",
            ],
        ),
        "SE" => ("SE", &["999999999999"]),
        "SI" => ("SI", &["99999999"]),
        "SK" => ("SK", &["9999999999"]),
        "GB" => ("GB", &["999999999", "999999999999"]),
        "CH" => ("CHE", &["999999999"]),
        "NO" => ("NO", &["999999999"]),
        _ => return None,
    })
}

fn matches_format(value: &str, format: &str) -> bool {
    value.len() == format.len()
        && value.chars().zip(format.chars()).all(|(c, f)| match f {
            '9' => c.is_ascii_digit(),
            'A' => c.is_ascii_uppercase(),
            'X' => c.is_ascii_uppercase() || c.is_ascii_digit(),
            literal => c == literal,
        })
}

/// Uppercases and strips separators; checks the country's format. Returns
/// the number with its country prefix, or the reason it is refused.
pub fn normalize_vat_id(value: &str, country_code: &str) -> Result<String, String> {
    let compact: String = value
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '.'))
        .collect::<String>()
        .to_uppercase();
    if compact.is_empty() {
        return Ok(String::new());
    }
    if country_code.is_empty() {
        return Err("Choose the country first: VAT IDs are checked against its format.".into());
    }
    if compact.len() > 64 {
        return Err("A VAT ID can be at most 64 characters.".into());
    }
    let Some((prefix, formats)) = vat_formats(country_code) else {
        // No known format: letters and digits only.
        if compact.chars().all(|c| c.is_ascii_alphanumeric()) && compact.len() >= 4 {
            return Ok(compact);
        }
        return Err("A VAT ID has 4 to 64 letters and digits.".into());
    };
    let national = compact.strip_prefix(prefix).unwrap_or(&compact);
    // Swiss and Norwegian numbers may carry a trailing MWST/TVA/IVA/MVA.
    let national = ["MWST", "TVA", "IVA", "MVA"]
        .iter()
        .fold(national, |n, s| n.strip_suffix(s).unwrap_or(n));
    if formats.iter().any(|f| matches_format(national, f)) {
        Ok(format!("{prefix}{national}"))
    } else {
        let examples = formats
            .iter()
            .map(|f| format!("{prefix}{f}"))
            .collect::<Vec<_>>()
            .join(" or ");
        Err(format!(
            "'{}' is not a valid VAT ID for {}: expected {examples} (9 = digit, A = letter, X = either).",
            value.trim(),
            country_name(country_code).unwrap_or(country_code)
        ))
    }
}

/// Whether the country is in the EU (for VAT, rule 9).
pub fn is_eu(country_code: &str) -> bool {
    EU_COUNTRIES.contains(&country_code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
    }

    #[test]
    fn cards_pass_luhn_and_future_expiry_and_keep_only_the_last_four() {
        let card = check_card("4242 4242 4242 4242", "12/29", " Ann Smith ", now()).unwrap();
        assert_eq!(
            (
                card.brand.as_str(),
                card.last4.as_str(),
                card.exp_month,
                card.exp_year
            ),
            ("Visa", "4242", 12, 2029)
        );
        assert_eq!(card.name, "Ann Smith");
        assert_eq!(
            check_card("5555555555554444", "11/2026", "A", now())
                .unwrap()
                .brand,
            "Mastercard"
        );
        let bad = check_card("4242 4242 4242 4241", "10/26", "", now()).unwrap_err();
        let fields: Vec<_> = bad.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["card_number", "card_expiry", "card_name"]);
        assert!(check_card("4242", "13/30", "A", now()).is_err());
        assert!(check_card("abcd efgh ijkl", "12/30", "A", now()).is_err());
    }

    #[test]
    fn vat_ids_follow_their_countrys_format() {
        assert_eq!(
            normalize_vat_id("fi 1234 5678", "FI").unwrap(),
            "FI12345678"
        );
        assert_eq!(normalize_vat_id("12345678", "FI").unwrap(), "FI12345678");
        assert_eq!(
            normalize_vat_id("EL123456789", "GR").unwrap(),
            "EL123456789"
        );
        assert_eq!(
            normalize_vat_id("NL123456789B01", "NL").unwrap(),
            "NL123456789B01"
        );
        assert_eq!(
            normalize_vat_id("CHE-123.456.789 MWST", "CH").unwrap(),
            "CHE123456789"
        );
        assert_eq!(normalize_vat_id("", "DE").unwrap(), "");
        let err = normalize_vat_id("DE12345", "DE").unwrap_err();
        assert!(
            err.contains("Germany") && err.contains("DE999999999"),
            "{err}"
        );
        assert!(
            normalize_vat_id("FI12345678", "").is_err(),
            "needs a country"
        );
        assert_eq!(normalize_vat_id("99-1234567", "US").unwrap(), "991234567");
        assert!(is_eu("FI") && !is_eu("GB"));
    }
}
