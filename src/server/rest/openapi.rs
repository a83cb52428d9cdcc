//! The OpenAPI 3.1 document at `/v1/openapi.json`, generated from the
//! endpoint table and the wire types (JSON Schema 2020-12 via schemars, the
//! dialect OpenAPI 3.1 uses).

use axum::http::StatusCode;
use schemars::generate::SchemaSettings;
use serde_json::{json, Map, Value};

use super::endpoint::{Endpoint, Returns};
use super::error::ErrorBody;

fn error_response(status: u16, error_schema: &Value) -> Value {
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    json!({
        "description": reason,
        "content": {"application/json": {"schema": error_schema}},
    })
}

/// The document of `endpoints` for an app served under `base_path` ("" at
/// the root).
pub fn document(endpoints: &[Endpoint], base_path: &str) -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        })
        .into_generator();
    let error_schema = generator.subschema_for::<ErrorBody>().to_value();
    let mut paths = Map::new();
    for endpoint in endpoints {
        let mut parameters: Vec<Value> = endpoint
            .path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| {
                json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
            })
            .collect();
        parameters.extend(endpoint.query.iter().map(|q| {
            json!({
                "name": q.name, "in": "query", "required": false,
                "description": q.description, "schema": (q.schema)(),
            })
        }));

        let mut responses = Map::new();
        let success = match &endpoint.returns {
            Returns::Json(schema) => json!({
                "description": "OK",
                "content": {"application/json": {"schema": schema(&mut generator).to_value()}},
            }),
            Returns::Pdf => json!({
                "description": "The invoice as PDF",
                "content": {"application/pdf": {"schema": {"type": "string", "contentMediaType": "application/pdf"}}},
            }),
            Returns::Csv => json!({
                "description": "FOCUS 1.0 cost and usage rows (CSV with a header row)",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }),
            Returns::Xml => json!({
                "description": "The invoice as UN/CEFACT Cross Industry Invoice XML (EN 16931)",
                "content": {"application/xml": {"schema": {"type": "string", "contentMediaType": "application/xml"}}},
            }),
        };
        responses.insert("200".into(), success);
        // What every operation of its kind can answer besides its own errors.
        let mut statuses: Vec<u16> = endpoint.errors.to_vec();
        if endpoint.body.is_some() {
            statuses.extend([400, 413, 415]);
        }
        if endpoint.needs_token {
            statuses.push(401);
        }
        if endpoint.path.contains('{') || !endpoint.query.is_empty() {
            statuses.extend([400, 404]);
        }
        statuses.sort_unstable();
        statuses.dedup();
        for status in statuses {
            responses.insert(status.to_string(), error_response(status, &error_schema));
        }

        let mut operation = json!({
            "operationId": endpoint.operation_id,
            "summary": endpoint.summary,
            "tags": [endpoint.tag],
            "parameters": parameters,
            "responses": responses,
            "security": if endpoint.needs_token { json!([{"aivenv1": []}]) } else { json!([]) },
        });
        if let Some(body) = endpoint.body {
            operation["requestBody"] = json!({
                "required": true,
                "content": {"application/json": {"schema": body(&mut generator).to_value()}},
            });
        }
        let path = format!("/v1{}", endpoint.path);
        let item = paths
            .entry(path)
            .or_insert_with(|| Value::Object(Map::new()));
        item[endpoint.method] = operation;
    }
    let schemas = generator.take_definitions(true);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "billing-console API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Billing groups, projects, invoices and credits, compatible with Aiven's API (the avn client works against it). Authenticate with `authorization: aivenv1 <token>`: create a token in the console (user menu → API tokens) or with POST /v1/userauth.",
        },
        "servers": [{"url": if base_path.is_empty() { "/" } else { base_path }}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "aivenv1": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "authorization",
                    "description": "A personal API token, sent as `aivenv1 <token>`.",
                },
            },
        },
    })
}
