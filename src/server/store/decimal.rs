//! Exact money in the database: NUMERIC on PostgreSQL, decimal text on SQLite
//! (which has no exact numeric type). Code sees `rust_decimal::Decimal`.

use std::str::FromStr;

use rust_decimal::Decimal;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef, Postgres};
use sqlx::sqlite::{Sqlite, SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Type};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DbDecimal(pub Decimal);

impl From<Decimal> for DbDecimal {
    fn from(value: Decimal) -> Self {
        DbDecimal(value)
    }
}

impl Type<Sqlite> for DbDecimal {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for DbDecimal {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Sqlite>>::encode(self.0.normalize().to_string(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for DbDecimal {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<'r, Sqlite>>::decode(value)?;
        Ok(DbDecimal(Decimal::from_str(text)?.normalize()))
    }
}

impl Type<Postgres> for DbDecimal {
    fn type_info() -> PgTypeInfo {
        <Decimal as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <Decimal as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for DbDecimal {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <Decimal as Encode<'_, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for DbDecimal {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        // NUMERIC(24, 6) pads to six places; both backends hand back the same
        // normalized value.
        Ok(DbDecimal(
            <Decimal as Decode<'r, Postgres>>::decode(value)?.normalize(),
        ))
    }
}
