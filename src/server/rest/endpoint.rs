//! One operation of the API as the endpoint table declares it: what the
//! router serves and what the OpenAPI document says about it.

/// What one endpoint returns: JSON of a type, or a PDF file.
pub enum Returns {
    Json(fn(&mut schemars::SchemaGenerator) -> schemars::Schema),
    Pdf,
    /// The EN 16931 e-invoice.
    Xml,
    /// A FOCUS 1.0 CSV.
    Csv,
}

/// A query parameter as the document describes it.
pub struct QueryParam {
    pub name: &'static str,
    pub description: &'static str,
    pub schema: fn() -> serde_json::Value,
}

/// One operation of the API: everything the document says about it.
pub struct Endpoint {
    pub method: &'static str,
    /// Under `/v1`, with `{name}` path parameters (axum and OpenAPI agree).
    pub path: &'static str,
    pub operation_id: &'static str,
    pub summary: &'static str,
    pub tag: &'static str,
    /// False only for `POST /userauth` and the PDF behind its download cookie.
    pub needs_token: bool,
    pub body: Option<fn(&mut schemars::SchemaGenerator) -> schemars::Schema>,
    pub query: &'static [QueryParam],
    pub returns: Returns,
    /// The error statuses this operation can answer with.
    pub errors: &'static [u16],
}
