//! Types shared by the server and the browser build.

pub mod amount;
pub mod billing;
pub mod countries;
pub mod credits;
pub mod ids;
pub mod invoices;
pub mod money;
pub mod new_group;
pub mod payment;
pub mod people;
pub mod states;
pub mod tokens;
pub mod validation;
pub mod webhooks;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A member's role on an account (PRODUCT.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Billing,
    /// Runs services (Aiven's project "developer"): creates, changes and
    /// terminates them and sees costs; no members, billing or invoices.
    Developer,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Developer, Role::Billing, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Developer => "developer",
            Role::Billing => "billing",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == value)
    }

    /// What a role may do: every role what a viewer may; admin everything;
    /// billing and developer each their own part (billing: groups,
    /// projects, billing details, budgets, credits; developer: services),
    /// neither the other's.
    pub fn allows(self, needed: Role) -> bool {
        self == needed || self == Role::Admin || needed == Role::Viewer
    }

    /// What the role may do, as the Members page says it.
    pub fn description(self) -> &'static str {
        match self {
            Role::Admin => "everything: members, billing, services, invoices and credit notes",
            Role::Developer => "create, change and terminate services, and see costs",
            Role::Billing => {
                "billing groups, projects and their moves, billing details, budgets and credits"
            }
            Role::Viewer => "see everything, change nothing",
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
    pub user_id: ids::UserId,
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
    fn what_each_role_allows_admin_everything_billing_and_developer_their_own_part() {
        assert!(Role::Admin.allows(Role::Billing));
        assert!(Role::Admin.allows(Role::Developer));
        assert!(Role::Developer.allows(Role::Viewer));
        assert!(!Role::Developer.allows(Role::Billing));
        assert!(!Role::Billing.allows(Role::Developer));
        assert!(!Role::Developer.allows(Role::Admin));
        assert_eq!(Role::parse("developer"), Some(Role::Developer));
        assert!(Role::Billing.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Billing));
        assert!(!Role::Billing.allows(Role::Admin));
        assert_eq!(Role::parse("billing"), Some(Role::Billing));
        assert_eq!(Role::parse("owner"), None);
    }
}
