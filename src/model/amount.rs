//! The one parser for every amount a person or a file types: budgets,
//! credit values, prices, exchange rates (issue 26). A typed amount is read
//! exactly or refused with a message that says what to type; it never
//! changes silently (`12,50` was once stored as 1250).
//!
//! The rule, in order:
//! - digits with an optional leading minus; a point `.` starts the decimals;
//! - a comma followed by one or two digits, with no point anywhere, is a
//!   **decimal comma**: `12,50` is 12.50, `,5` is 0.5;
//! - otherwise commas separate thousands, in groups of three digits after a
//!   first group of one to three that is not 0: `1,234.56`, `1,234,567`;
//! - `1,234` alone (a comma and exactly three digits, no point) is 1234 where
//!   the field takes at most two decimals (money). Where it takes more
//!   (prices, rates) it could mean 1.234 as well, so it is refused;
//! - nothing else: no spaces, no exponent, no underscores, no second point,
//!   no points between thousands (`1.234,56` is refused, not guessed).
//!
//! Each field also has a documented range (the `MAX_…` constants below),
//! checked where the amount enters, so arithmetic on stored amounts cannot
//! overflow `Decimal` (about 7.9 × 10^28).

use rust_decimal::Decimal;

/// The largest amount of money the console takes in any currency (a
/// budget, a credit's value): one trillion.
pub const MAX_MONEY: i64 = 1_000_000_000_000;
/// The largest hourly price in USD a price list may hold.
pub const MAX_HOURLY_PRICE_USD: i64 = 1_000_000;
/// Exchange rates (units of a currency per USD) lie within
/// [`MIN_RATE`, `MAX_RATE`].
pub const MAX_RATE: i64 = 1_000_000;
/// 0.000001: the smallest exchange rate (see [`MAX_RATE`]).
pub fn min_rate() -> Decimal {
    Decimal::new(1, 6)
}

/// More integer digits than any range allows: refused before `Decimal`
/// could overflow while parsing.
const MAX_INTEGER_DIGITS: usize = 15;

/// Reads `text` as an amount with at most `max_decimals` decimals (see the
/// module's rule). The error is the message shown next to the field.
pub fn parse_amount(text: &str, max_decimals: u32) -> Result<Decimal, String> {
    let typed = text.trim();
    if typed.is_empty() {
        return Err("Enter an amount, like 1234.56.".into());
    }
    let (negative, body) = match typed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, typed),
    };
    if let Some(bad) = body
        .chars()
        .find(|c| !(c.is_ascii_digit() || *c == '.' || *c == ','))
    {
        return Err(format!(
            "'{typed}' is not an amount ('{bad}' is not allowed): write digits and a point before the decimals, like 1234.56."
        ));
    }
    let normal = plain_digits(typed, body, max_decimals)?;
    let (whole, fraction) = normal.split_once('.').unwrap_or((normal.as_str(), ""));
    if whole.is_empty() && fraction.is_empty() {
        return Err(format!(
            "'{typed}' is not an amount: write it like 1234.56."
        ));
    }
    if whole.trim_start_matches('0').len() > MAX_INTEGER_DIGITS {
        return Err(format!("'{typed}' is too large."));
    }
    let decimals = fraction.trim_end_matches('0').len();
    if decimals > max_decimals as usize {
        return Err(match max_decimals {
            0 => format!("'{typed}' has decimals; this amount is in whole units."),
            n => format!("'{typed}' has {decimals} decimals; at most {n} are allowed."),
        });
    }
    // The decimals as typed are kept (a price of 0.50 stays 0.50).
    let digits = format!(
        "{}{}{}{}",
        if negative { "-" } else { "" },
        if whole.is_empty() { "0" } else { whole },
        if fraction.is_empty() { "" } else { "." },
        fraction
    );
    digits
        .parse::<Decimal>()
        .map_err(|_| format!("'{typed}' is not an amount: write it like 1234.56."))
}

/// The amount with its separators read: digits and at most one point.
fn plain_digits(typed: &str, body: &str, max_decimals: u32) -> Result<String, String> {
    if body.matches('.').count() > 1 {
        return Err(format!(
            "'{typed}' has more than one point: write thousands with commas or not at all, like 1234.56 or 1,234.56."
        ));
    }
    if !body.contains(',') {
        return Ok(body.to_string());
    }
    let (whole, fraction) = match body.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (body, None),
    };
    if fraction.is_some_and(|f| f.contains(',')) {
        return Err(format!(
            "'{typed}' has a comma after the point: write it like 1234.56 or 1,234.56."
        ));
    }
    let groups: Vec<&str> = whole.split(',').collect();
    // A decimal comma: one comma, one or two digits after it, no point.
    if fraction.is_none() && groups.len() == 2 && (1..=2).contains(&groups[1].len()) {
        return Ok(format!("{}.{}", groups[0], groups[1]));
    }
    let grouped = groups[0].len() <= 3
        && !groups[0].is_empty()
        && !groups[0].starts_with('0')
        && groups[1..].iter().all(|g| g.len() == 3);
    if !grouped {
        return Err(format!(
            "'{typed}' is not an amount: use a point before the decimals (1234.56) and commas only between thousands (1,234.56)."
        ));
    }
    if fraction.is_none() && groups.len() == 2 && max_decimals > 2 {
        let sign = if typed.starts_with('-') { "-" } else { "" };
        return Err(format!(
            "'{typed}' could mean {sign}{} or {sign}{}.{}: write it without the comma.",
            groups.concat(),
            groups[0],
            groups[1]
        ));
    }
    Ok(match fraction {
        Some(fraction) => format!("{}.{fraction}", groups.concat()),
        None => groups.concat(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn one_parser_reads_amounts_exactly_or_refuses_them() {
        // (typed, decimals allowed, read as, or None: refused)
        let table: &[(&str, u32, Option<&str>)] = &[
            ("1234.56", 2, Some("1234.56")),
            ("1,234.56", 2, Some("1234.56")),
            ("1,234,567.8", 2, Some("1234567.8")),
            ("  300 ", 2, Some("300")),
            ("12,50", 2, Some("12.50")),
            ("12,5", 2, Some("12.5")),
            (",5", 2, Some("0.5")),
            ("0,99", 2, Some("0.99")),
            ("-12,50", 2, Some("-12.5")),
            (".5", 2, Some("0.5")),
            ("5.", 2, Some("5")),
            ("1,234", 2, Some("1234")),
            ("1,234", 6, None),
            ("0,125", 6, None),
            ("0.125", 6, Some("0.125")),
            ("1.50", 2, Some("1.5")),
            ("1.500", 2, Some("1.5")),
            ("1.234,56", 2, None),
            ("1.234.567", 2, None),
            ("12,345,67", 2, None),
            ("1,23,456", 2, None),
            ("1234,567", 2, None),
            ("12.345", 2, None),
            ("1e5", 2, None),
            ("1_000", 2, None),
            ("1 000", 2, None),
            ("١٢", 2, None),
            ("", 2, None),
            ("-", 2, None),
            (".", 2, None),
            (",", 2, None),
            ("5", 0, Some("5")),
            ("5.5", 0, None),
            ("800000000000000000000000000", 2, None),
            ("99999999999999999999999999999999999", 2, None),
            ("0.1.2", 2, None),
            ("1.2,3", 2, None),
        ];
        for (typed, decimals, expected) in table {
            let read = parse_amount(typed, *decimals);
            match expected {
                Some(value) => assert_eq!(read, Ok(d(value)), "{typed:?}"),
                None => assert!(read.is_err(), "{typed:?} was read as {read:?}"),
            }
        }
    }

    #[test]
    fn a_decimal_comma_is_never_a_hundredfold_amount() {
        assert_ne!(parse_amount("12,50", 2), Ok(d("1250")));
        assert_eq!(parse_amount("12,50", 2), Ok(d("12.5")));
    }

    #[test]
    fn refusals_say_what_to_type() {
        let message = parse_amount("1.234,56", 2).unwrap_err();
        assert!(message.contains("1234.56"), "{message}");
        let message = parse_amount("1,234", 6).unwrap_err();
        assert!(message.contains("1234 or 1.234"), "{message}");
        let message = parse_amount("12.345", 2).unwrap_err();
        assert!(message.contains("at most 2"), "{message}");
    }
}
