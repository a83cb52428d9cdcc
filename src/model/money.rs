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
    fn currencies_parse_only_the_twelve() {
        assert_eq!("EUR".parse::<Currency>(), Ok(Currency::EUR));
        assert!("eur".parse::<Currency>().is_err());
        assert!("XBT".parse::<Currency>().is_err());
        assert_eq!(Currency::ALL.len(), 12);
    }
}
