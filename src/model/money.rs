//! Money: an amount in one of the twelve billing currencies, with the
//! currency's minor units (JPY 0, the others 2) and the one rounding rule,
//! half away from zero. Exact amounts (the cost engine's fractions of a
//! cent) stay `Decimal`; what people, files and the API see is rounded
//! here, once, and written with all its decimals (`568.00`).

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// The billing currencies of PRODUCT.md §1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Currency {
    AUD,
    CAD,
    CHF,
    DKK,
    EUR,
    GBP,
    JPY,
    NOK,
    NZD,
    SEK,
    SGD,
    USD,
}

impl Currency {
    pub const ALL: [Currency; 12] = [
        Currency::AUD,
        Currency::CAD,
        Currency::CHF,
        Currency::DKK,
        Currency::EUR,
        Currency::GBP,
        Currency::JPY,
        Currency::NOK,
        Currency::NZD,
        Currency::SEK,
        Currency::SGD,
        Currency::USD,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Currency::AUD => "AUD",
            Currency::CAD => "CAD",
            Currency::CHF => "CHF",
            Currency::DKK => "DKK",
            Currency::EUR => "EUR",
            Currency::GBP => "GBP",
            Currency::JPY => "JPY",
            Currency::NOK => "NOK",
            Currency::NZD => "NZD",
            Currency::SEK => "SEK",
            Currency::SGD => "SGD",
            Currency::USD => "USD",
        }
    }

    pub fn parse(code: &str) -> Option<Currency> {
        Currency::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Decimal places of the currency's minor unit (ISO 4217).
    pub fn minor_units(self) -> u32 {
        match self {
            Currency::JPY => 0,
            _ => 2,
        }
    }

    /// The one rounding rule: to the minor unit, half away from zero.
    pub fn round(self, amount: Decimal) -> Decimal {
        amount.round_dp_with_strategy(self.minor_units(), RoundingStrategy::MidpointAwayFromZero)
    }

    /// `amount` rounded and written with all the currency's decimals
    /// (`568.00`, `1234` for JPY): the form of files and the API.
    pub fn plain(self, amount: Decimal) -> String {
        let mut rounded = self.round(amount);
        rounded.rescale(self.minor_units());
        rounded.to_string()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A code that is not one of the billing currencies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a billing currency")]
pub struct UnknownCurrency(pub String);

impl FromStr for Currency {
    type Err = UnknownCurrency;
    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Currency::parse(code).ok_or_else(|| UnknownCurrency(code.to_string()))
    }
}

impl TryFrom<String> for Currency {
    type Error = UnknownCurrency;
    fn try_from(code: String) -> Result<Self, Self::Error> {
        code.parse()
    }
}

/// An amount people see: rounded to its currency's minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    /// `amount` rounded by the one rule.
    pub fn of(amount: Decimal, currency: Currency) -> Money {
        Money {
            amount: currency.round(amount),
            currency,
        }
    }

    pub fn usd(amount: Decimal) -> Money {
        Money::of(amount, Currency::USD)
    }

    pub fn zero(currency: Currency) -> Money {
        Money {
            amount: Decimal::ZERO,
            currency,
        }
    }

    /// The amount with all its decimals, no currency code (`568.00`).
    pub fn plain(&self) -> String {
        self.currency.plain(self.amount)
    }

    /// The amount as screens show it: all its decimals and a comma between
    /// thousands (`1,234.56`). One fixed format, not the browser's locale,
    /// so the server's page and the hydrated one agree.
    pub fn grouped(&self) -> String {
        let plain = self.plain();
        let (sign, digits) = match plain.strip_prefix('-') {
            Some(rest) if !self.amount.is_zero() => ("-", rest),
            Some(rest) => ("", rest),
            None => ("", plain.as_str()),
        };
        let (whole, fraction) = match digits.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (digits, None),
        };
        let mut shown = String::with_capacity(plain.len() + whole.len() / 3);
        shown.push_str(sign);
        for (i, digit) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                shown.push(',');
            }
            shown.push(digit);
        }
        if let Some(fraction) = fraction {
            shown.push('.');
            shown.push_str(fraction);
        }
        shown
    }

    /// `1,234.56 EUR`: an amount on a screen where no column header names
    /// its currency.
    pub fn shown(&self) -> String {
        format!("{} {}", self.grouped(), self.currency)
    }
}

/// `568.00 USD`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.plain(), self.currency)
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    /// Sums of rounded amounts stay rounded; a sum across currencies is a
    /// bug, so the left side's currency wins only in release builds.
    fn add(self, other: Money) -> Money {
        debug_assert_eq!(
            self.currency, other.currency,
            "money of two currencies added"
        );
        Money {
            amount: self.amount + other.amount,
            currency: self.currency,
        }
    }
}

impl std::ops::Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money {
            amount: -self.amount,
            currency: self.currency,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn one_rounding_rule_half_away_from_zero_to_the_minor_unit() {
        assert_eq!(Money::of(d("0.125"), Currency::USD).plain(), "0.13");
        assert_eq!(Money::of(d("-0.125"), Currency::EUR).plain(), "-0.13");
        assert_eq!(Money::of(d("2.5"), Currency::JPY).plain(), "3");
        assert_eq!(
            Money::of(d("1234.5"), Currency::JPY).to_string(),
            "1235 JPY"
        );
    }

    #[test]
    fn amounts_show_all_their_decimals() {
        assert_eq!(Money::of(d("568"), Currency::USD).to_string(), "568.00 USD");
        assert_eq!(Money::zero(Currency::EUR).plain(), "0.00");
        assert_eq!(Currency::USD.plain(d("858.99")), "858.99");
    }

    #[test]
    fn screens_group_thousands_and_keep_every_decimal() {
        let shown = |text: &str, currency| Money::of(d(text), currency).grouped();
        assert_eq!(shown("0", Currency::EUR), "0.00");
        assert_eq!(shown("999.995", Currency::USD), "1,000.00");
        assert_eq!(shown("1234.5", Currency::EUR), "1,234.50");
        assert_eq!(shown("100000", Currency::USD), "100,000.00");
        assert_eq!(shown("1234567.891", Currency::GBP), "1,234,567.89");
        assert_eq!(shown("-1087.78", Currency::USD), "-1,087.78");
        assert_eq!(shown("-0.001", Currency::USD), "0.00");
        assert_eq!(shown("1234567", Currency::JPY), "1,234,567");
        assert_eq!(
            Money::of(d("2059.02"), Currency::EUR).shown(),
            "2,059.02 EUR"
        );
    }

    #[test]
    fn currencies_parse_only_the_twelve() {
        assert_eq!("EUR".parse::<Currency>(), Ok(Currency::EUR));
        assert!("eur".parse::<Currency>().is_err());
        assert!("XBT".parse::<Currency>().is_err());
        assert_eq!(Currency::ALL.len(), 12);
    }
}
