//! Exchange rates: the one place an amount in USD becomes the group's
//! currency, at the rate in force on a day (local units per USD; USD is 1).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::error::AppResult;
use crate::model::money::Currency;
use crate::server::store::Store;

/// Local units per USD on `day`, or None when no rate is in force.
pub async fn rate_on(
    store: &dyn Store,
    currency: Currency,
    day: NaiveDate,
) -> AppResult<Option<Decimal>> {
    let stored = if currency == Currency::USD {
        None
    } else {
        store.exchange_rate_on(currency, day).await?
    };
    Ok(in_force(currency, stored))
}

/// The rate in force given what the store holds for `currency` (USD is 1
/// whatever is stored).
pub fn in_force(currency: Currency, stored: Option<Decimal>) -> Option<Decimal> {
    if currency == Currency::USD {
        Some(Decimal::ONE)
    } else {
        stored
    }
}

/// The rates of one day, each looked up once (pages listing many groups).
pub struct RatesOn {
    day: NaiveDate,
    known: BTreeMap<Currency, Option<Decimal>>,
}

impl RatesOn {
    pub fn new(day: NaiveDate) -> Self {
        RatesOn {
            day,
            known: BTreeMap::new(),
        }
    }

    pub async fn get(
        &mut self,
        store: &dyn Store,
        currency: Currency,
    ) -> AppResult<Option<Decimal>> {
        if let Some(rate) = self.known.get(&currency) {
            return Ok(*rate);
        }
        let rate = rate_on(store, currency, self.day).await?;
        self.known.insert(currency, rate);
        Ok(rate)
    }
}
