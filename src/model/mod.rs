//! Types shared by the server and the browser build.

pub mod amount;
pub mod billing;
pub mod countries;
pub mod credits;
pub mod invoices;
pub mod money;
pub mod new_group;
pub mod payment;
pub mod people;
pub mod states;
pub mod tokens;
pub mod validation;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A member's role on an account (PRODUCT.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Billing,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Billing, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Billing => "billing",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == value)
    }

    /// Roles are ordered: admin can do what billing can, billing what viewer can.
    pub fn allows(self, needed: Role) -> bool {
        self.rank() >= needed.rank()
    }

    fn rank(self) -> u8 {
        match self {
            Role::Viewer => 0,
            Role::Billing => 1,
            Role::Admin => 2,
        }
    }
}

impl TryFrom<String> for Role {
    type Error = states::UnknownValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Role::parse(&value).ok_or(states::UnknownValue {
            kind: "role",
            value,
        })
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The signed-in user, as the pages see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub user_id: String,
    pub email: String,
    pub real_name: String,
    /// An instance administrator (sees and creates accounts).
    pub is_operator: bool,
}

/// A project as listed on the projects & accounts page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSummary {
    pub project_name: String,
    pub account_id: String,
    pub billing_group_id: String,
    pub billing_group_name: String,
    pub default_cloud: String,
    pub create_time: DateTime<Utc>,
}

/// An account the user belongs to, with its projects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountWithProjects {
    pub account_id: String,
    pub account_name: String,
    pub role: Role,
    pub primary_billing_group_id: String,
    pub billing_group_count: i64,
    /// The account's active groups, (id, name), by name.
    pub billing_groups: Vec<(String, String)>,
    pub projects: Vec<ProjectSummary>,
    /// This month so far, before tax, all groups together, in USD.
    pub month_to_date_usd: money::Money,
    /// The same in the primary group's currency (None without a rate).
    pub month_to_date_local: Option<money::Money>,
}

/// A service of a project with its current run state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSummary {
    pub service_name: String,
    pub service_type: String,
    pub plan: String,
    pub cloud_name: String,
    pub hourly_price_usd: rust_decimal::Decimal,
    pub state: states::ServiceState,
    /// Its charges this month so far.
    pub month_to_date: money::Money,
    /// The other plans of its type it can change to, with their price in
    /// its cloud now.
    pub other_plans: Vec<(String, rust_decimal::Decimal)>,
}

/// A plan of the price list as the create form offers it: its price now,
/// from the cheapest cloud to the dearest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanOption {
    pub service_type: String,
    pub description: String,
    pub plan: String,
    pub lowest_usd: rust_decimal::Decimal,
    pub highest_usd: rust_decimal::Decimal,
}

/// The project page: the project, its account and its services; for the
/// create form, the plans and clouds of the price list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectPage {
    pub project: ProjectSummary,
    pub account_name: String,
    pub role: Role,
    pub services: Vec<ServiceSummary>,
    pub plans: Vec<PlanOption>,
    pub clouds: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_admin_over_billing_over_viewer() {
        assert!(Role::Admin.allows(Role::Billing));
        assert!(Role::Billing.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Billing));
        assert!(!Role::Billing.allows(Role::Admin));
        assert_eq!(Role::parse("billing"), Some(Role::Billing));
        assert_eq!(Role::parse("owner"), None);
    }
}
