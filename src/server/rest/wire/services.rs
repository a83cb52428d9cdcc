//! Services, plans and service types on the wire (what `avn service`
//! sends and prints).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A service as `avn service list/get` prints it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServiceWire {
    pub service_name: String,
    pub service_type: String,
    pub project_name: String,
    /// `RUNNING` or `POWEROFF`.
    pub state: String,
    pub cloud_name: String,
    pub plan: String,
    /// The current run's price (USD per hour).
    pub hourly_price_usd: Decimal,
    pub node_count: i64,
    pub disk_space_mb: i64,
    pub service_uri: String,
    pub user_config: serde_json::Map<String, serde_json::Value>,
    pub databases: Vec<String>,
    pub users: Vec<serde_json::Value>,
    pub termination_protection: bool,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServiceResponse {
    pub service: ServiceWire,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServicesResponse {
    pub services: Vec<ServiceWire>,
}

/// What `avn service create` sends. Options this console does not offer
/// (configuration, integrations, VPCs, static IPs, extra disk, keys) are
/// refused by name when set.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateServiceRequest {
    pub service_name: String,
    pub service_type: String,
    pub plan: String,
    /// Default: the project's default cloud.
    #[serde(default)]
    pub cloud: Option<String>,
    #[serde(default)]
    pub user_config: Option<serde_json::Value>,
    #[serde(default)]
    pub service_integrations: Option<serde_json::Value>,
    #[serde(default)]
    pub termination_protection: Option<bool>,
    #[serde(default)]
    pub static_ips: Option<serde_json::Value>,
    #[serde(default)]
    pub disk_space_mb: Option<i64>,
    #[serde(default)]
    pub project_vpc_id: Option<serde_json::Value>,
    #[serde(default)]
    pub cmk_id: Option<String>,
}

/// What `avn service update` sends: a plan (always, the current one when
/// it stays) and `powered`; other options are refused by name when set.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateServiceRequest {
    #[serde(default)]
    pub plan: Option<String>,
    #[serde(default)]
    pub powered: Option<bool>,
    #[serde(default)]
    pub cloud: Option<String>,
    #[serde(default)]
    pub user_config: Option<serde_json::Value>,
    #[serde(default)]
    pub maintenance: Option<serde_json::Value>,
    #[serde(default)]
    pub termination_protection: Option<bool>,
    #[serde(default)]
    pub project_vpc_id: Option<serde_json::Value>,
    #[serde(default)]
    pub disk_space_mb: Option<i64>,
    #[serde(default)]
    pub karapace: Option<bool>,
    #[serde(default)]
    pub schema_registry_authz: Option<bool>,
    #[serde(default)]
    pub disaster_recovery_role: Option<String>,
    #[serde(default)]
    pub cmk_id: Option<String>,
}

/// A plan's price and size in one cloud.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PlanRegionWire {
    /// USD per hour, as a string (avn reads it as a decimal).
    pub price_usd: String,
    pub node_memory_mb: i64,
    pub disk_space_mb: i64,
    pub node_cpu_count: i64,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServicePlanWire {
    pub service_type: String,
    pub service_plan: String,
    pub node_count: i64,
    /// Per cloud.
    pub regions: std::collections::BTreeMap<String, PlanRegionWire>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServiceTypeWire {
    pub description: String,
    pub service_plans: Vec<ServicePlanWire>,
    pub user_config_schema: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServiceTypesResponse {
    pub service_types: std::collections::BTreeMap<String, ServiceTypeWire>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServiceTypeResponse {
    pub service_type: String,
    pub description: String,
    pub service_plans: Vec<ServicePlanWire>,
    pub user_config_schema: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct VpcsResponse {
    pub vpcs: Vec<serde_json::Value>,
}
