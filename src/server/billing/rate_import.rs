//! Exchange rates in (issue 17): the European Central Bank's `eurofxref`
//! CSV (the daily file and the history file: rates per EUR), or a plain
//! `date,currency,rate` file of local units per USD. Stored per USD for the
//! billing currencies; ECB rates become `rate(CUR per EUR) / rate(USD per
//! EUR)`, rounded to 6 decimal places. An import says what it added or
//! changed and what it skipped; a bad file writes nothing.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use super::prices::csv_fields;
use crate::error::AppError;
use crate::model::amount::{min_rate, parse_amount, MAX_RATE};
use crate::model::money::Currency;
use crate::server::store::{DbDecimal, ExchangeRateRecord, Store};

/// Decimal places of a stored per-USD rate.
pub const RATE_DECIMALS: u32 = 6;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateImport {
    /// "EUR 2026-11-27: 0.951475" per rate added.
    pub added: Vec<String>,
    /// "EUR 2026-11-27: 0.951475 (was 0.95)" per rate changed.
    pub changed: Vec<String>,
    pub unchanged: usize,
    /// Currencies of the file that are not billing currencies.
    pub skipped: Vec<String>,
}

type Rates = BTreeMap<(Currency, NaiveDate), Decimal>;

/// The ECB's dates: "2026-11-27" in the history file, "27 November 2026"
/// in the daily one.
fn ecb_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d %B %Y"))
        .ok()
}

fn per_usd(per_eur: Decimal, usd_per_eur: Decimal) -> Decimal {
    (per_eur / usd_per_eur)
        .round_dp_with_strategy(RATE_DECIMALS, RoundingStrategy::MidpointAwayFromZero)
}

/// Parses an ECB file: a header `Date, USD, JPY, …` and a row per day
/// (empty and `N/A` cells are missing rates).
/// A rate as a file writes it: the one amount parser (a point before the
/// decimals), at most 10 decimals, within the documented range.
fn parse_rate(text: &str) -> Result<Decimal, String> {
    let rate = parse_amount(text, 10)?;
    if rate < min_rate() || rate > Decimal::from(MAX_RATE) {
        return Err(format!(
            "'{text}' is out of range: a rate is {} to {MAX_RATE}",
            min_rate()
        ));
    }
    Ok(rate)
}

fn parse_ecb(text: &str, skipped: &mut Vec<String>) -> Result<Rates, Vec<String>> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(vec!["the file is empty".into()]);
    };
    let header = csv_fields(header);
    let Some(usd_column) = header.iter().position(|h| h == "USD") else {
        return Err(vec!["line 1: an ECB file needs a USD column".into()]);
    };
    let mut rates = Rates::new();
    let mut errors = Vec::new();
    for name in header.iter().skip(1).filter(|h| !h.is_empty()) {
        if Currency::parse(name).is_none() && !skipped.contains(name) {
            skipped.push(name.clone());
        }
    }
    for (number, line) in lines {
        let fields = csv_fields(line);
        let Some(day) = fields.first().and_then(|d| ecb_date(d)) else {
            errors.push(format!(
                "line {number}, column Date: '{}' is not a date",
                fields.first().cloned().unwrap_or_default()
            ));
            continue;
        };
        let cell = |column: usize| -> Result<Option<Decimal>, String> {
            match fields.get(column).map(String::as_str).unwrap_or("") {
                "" | "N/A" => Ok(None),
                text => parse_rate(text).map(Some).map_err(|message| {
                    format!("line {number}, column {}: {message}", header[column])
                }),
            }
        };
        let usd = match cell(usd_column) {
            Ok(Some(usd)) => usd,
            Ok(None) => continue,
            Err(message) => {
                errors.push(message);
                continue;
            }
        };
        rates.insert((Currency::EUR, day), per_usd(Decimal::ONE, usd));
        for (column, name) in header.iter().enumerate().skip(1) {
            let Some(currency) = Currency::parse(name).filter(|c| *c != Currency::USD) else {
                continue;
            };
            match cell(column) {
                Ok(Some(per_eur)) => {
                    rates.insert((currency, day), per_usd(per_eur, usd));
                }
                Ok(None) => {}
                Err(message) => errors.push(message),
            }
        }
    }
    if errors.is_empty() {
        Ok(rates)
    } else {
        Err(errors)
    }
}

/// Parses a plain file: `date,currency,rate` (local units per USD).
fn parse_plain(text: &str, skipped: &mut Vec<String>) -> Result<Rates, Vec<String>> {
    let mut rates = Rates::new();
    let mut errors = Vec::new();
    for (number, line) in text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
    {
        let fields = csv_fields(line);
        if number == 1
            && fields
                .first()
                .is_some_and(|f| f.eq_ignore_ascii_case("date"))
        {
            continue;
        }
        if fields.len() != 3 {
            errors.push(format!("line {number}: expected date,currency,rate"));
            continue;
        }
        let day = NaiveDate::parse_from_str(&fields[0], "%Y-%m-%d");
        if day.is_err() {
            errors.push(format!(
                "line {number}, column date: '{}' is not YYYY-MM-DD",
                fields[0]
            ));
        }
        let code = fields[1].to_ascii_uppercase();
        let currency = Currency::parse(&code);
        if currency.is_none() {
            if code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()) {
                if !skipped.contains(&code) {
                    skipped.push(code);
                }
            } else {
                errors.push(format!(
                    "line {number}, column currency: '{}' is not a currency code",
                    fields[1]
                ));
            }
            continue;
        }
        let rate = parse_rate(&fields[2])
            .map_err(|message| errors.push(format!("line {number}, column rate: {message}")))
            .ok();
        if let (Ok(day), Some(currency), Some(rate)) = (day, currency, rate) {
            if currency == Currency::USD && rate != Decimal::ONE {
                errors.push(format!(
                    "line {number}, column rate: USD is always 1 per USD"
                ));
                continue;
            }
            rates.insert(
                (currency, day),
                rate.round_dp_with_strategy(RATE_DECIMALS, RoundingStrategy::MidpointAwayFromZero),
            );
        }
    }
    if errors.is_empty() {
        Ok(rates)
    } else {
        Err(errors)
    }
}

/// Parses either format (an ECB file starts with `Date` and has a USD column).
pub fn parse_rates(text: &str) -> Result<(Rates, Vec<String>), Vec<String>> {
    let mut skipped = Vec::new();
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    let header = csv_fields(first);
    let is_ecb = header.first().is_some_and(|h| h == "Date") && header.iter().any(|h| h == "USD");
    let rates = if is_ecb {
        parse_ecb(text, &mut skipped)?
    } else {
        parse_plain(text, &mut skipped)?
    };
    if rates.is_empty() {
        return Err(vec!["the file holds no rate".into()]);
    }
    Ok((rates, skipped))
}

/// Imports a rates file: stores what is new or different, says what.
pub async fn import_rates(store: &dyn Store, text: &str) -> Result<RateImport, Vec<String>> {
    let (rates, skipped) = parse_rates(text)?;
    let stored: BTreeMap<(Currency, NaiveDate), Decimal> = store
        .exchange_rates()
        .await
        .map_err(|e| vec![AppError::from(e).to_string()])?
        .into_iter()
        .map(|r| ((r.currency, r.valid_from), r.usd_rate.0))
        .collect();
    let mut report = RateImport {
        skipped,
        ..Default::default()
    };
    let mut to_save = Vec::new();
    for ((currency, day), rate) in rates {
        if currency == Currency::USD {
            continue;
        }
        let line = format!("{} {day}: {}", currency.code(), rate.normalize());
        match stored.get(&(currency, day)) {
            Some(old) if *old == rate => report.unchanged += 1,
            Some(old) => report
                .changed
                .push(format!("{line} (was {})", old.normalize())),
            None => report.added.push(line),
        }
        if stored.get(&(currency, day)) != Some(&rate) {
            to_save.push(ExchangeRateRecord {
                currency,
                valid_from: day,
                usd_rate: DbDecimal(rate),
            });
        }
    }
    if !to_save.is_empty() {
        store
            .save_exchange_rates(&to_save)
            .await
            .map_err(|e| vec![AppError::from(e).to_string()])?;
    }
    Ok(report)
}

/// The latest rate of each billing currency and its day.
pub async fn latest_rates(
    store: &dyn Store,
) -> Result<Vec<(Currency, NaiveDate, Decimal)>, AppError> {
    let mut latest: BTreeMap<Currency, (NaiveDate, Decimal)> = BTreeMap::new();
    for rate in store.exchange_rates().await? {
        latest.insert(rate.currency, (rate.valid_from, rate.usd_rate.0));
    }
    Ok(latest
        .into_iter()
        .map(|(currency, (day, rate))| (currency, day, rate))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layout of the ECB's public files (eurofxref.csv and
    /// eurofxref-hist.csv), written from their format with sample values.
    const DAILY: &str = "Date, USD, JPY, BGN, CZK, DKK, GBP, HUF, PLN, RON, SEK, CHF, ISK, NOK, TRY, AUD, BRL, CAD, CNY, HKD, IDR, ILS, INR, KRW, MXN, MYR, NZD, PHP, SGD, THB, ZAR, \n\
        27 November 2026, 1.0500, 160.00, 1.9558, 25.100, 7.4600, 0.8400, 400.00, 4.3000, 4.9700, 11.500, 0.9400, 145.00, 11.800, 36.000, 1.6200, 6.1000, 1.4700, 7.6000, 8.1700, 16700.00, 3.9000, 88.000, 1450.00, 19.500, 4.7000, 1.8000, 60.000, 1.4000, 37.000, 19.000, \n";

    const HISTORY: &str = "Date,USD,JPY,BGN,CYP,CZK,DKK,EEK,GBP,HUF,LTL,LVL,MTL,PLN,ROL,RON,SEK,SIT,SKK,CHF,ISK,NOK,HRK,RUB,TRL,TRY,AUD,BRL,CAD,CNY,HKD,IDR,ILS,INR,KRW,MXN,MYR,NZD,PHP,SGD,THB,ZAR,\n\
        2026-11-27,1.0500,160.00,1.9558,N/A,25.100,7.4600,N/A,0.8400,400.00,N/A,N/A,N/A,4.3000,N/A,4.9700,11.500,N/A,N/A,0.9400,145.00,11.800,N/A,N/A,N/A,36.000,1.6200,6.1000,1.4700,7.6000,8.1700,16700.00,3.9000,88.000,1450.00,19.500,4.7000,1.8000,60.000,1.4000,37.000,19.000,\n\
        2026-11-26,1.0400,159.00,1.9558,N/A,25.100,7.4500,N/A,0.8300,400.00,N/A,N/A,N/A,4.3000,N/A,4.9700,11.400,N/A,N/A,0.9300,145.00,11.700,N/A,N/A,N/A,36.000,1.6100,6.1000,1.4600,7.6000,8.1700,16700.00,3.9000,88.000,1450.00,19.500,4.7000,1.7900,60.000,1.3900,37.000,19.000,\n";

    fn rate(rates: &Rates, code: &str, day: &str) -> String {
        rates[&(Currency::parse(code).unwrap(), day.parse().unwrap())].to_string()
    }

    #[test]
    fn ecb_files_become_per_usd_rates_for_the_billing_currencies() {
        let (daily, skipped) = parse_rates(DAILY).unwrap();
        // EUR per USD = 1 / 1.05; GBP per USD = 0.84 / 1.05; JPY 160 / 1.05.
        assert_eq!(rate(&daily, "EUR", "2026-11-27"), "0.952381");
        assert_eq!(rate(&daily, "GBP", "2026-11-27"), "0.80");
        assert_eq!(rate(&daily, "JPY", "2026-11-27"), "152.380952");
        assert_eq!(rate(&daily, "SEK", "2026-11-27"), "10.952381");
        assert_eq!(rate(&daily, "NZD", "2026-11-27"), "1.714286");
        // The 10 billing currencies besides USD, and EUR itself.
        assert_eq!(daily.len(), 11);
        assert!(skipped.contains(&"BGN".to_string()) && skipped.contains(&"ZAR".to_string()));
        assert!(!skipped.contains(&"GBP".to_string()));

        let (history, _) = parse_rates(HISTORY).unwrap();
        assert_eq!(rate(&history, "EUR", "2026-11-26"), "0.961538");
        assert_eq!(rate(&history, "CHF", "2026-11-26"), "0.894231");
        assert_eq!(history.len(), 22);
    }

    #[test]
    fn a_bad_rates_file_names_line_and_column() {
        let errors = parse_rates(
            "date,currency,rate\n2026-11-27,EUR,0.95\n2026-13-01,GBP,x\n2026-11-27,E1,1\n",
        )
        .unwrap_err();
        assert!(
            errors.iter().any(|e| e.starts_with("line 3, column date")),
            "{errors:?}"
        );
        assert!(errors.iter().any(|e| e.starts_with("line 3, column rate")));
        assert!(errors
            .iter()
            .any(|e| e.starts_with("line 4, column currency")));
        let (plain, skipped) = parse_rates("2026-11-27,EUR,0.95\n2026-11-27,PLN,4.1\n").unwrap();
        assert_eq!(rate(&plain, "EUR", "2026-11-27"), "0.95");
        assert_eq!(skipped, vec!["PLN".to_string()]);
    }
}
