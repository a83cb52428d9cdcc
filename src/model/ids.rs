//! Ids as their own types, so the store and the rules cannot be handed an
//! account's id where a user's is meant (`add_member(account, user)` and
//! `member_role(user, account)` swapped would not compile).
//!
//! An id reads as a `str` (paths, logs, SQL binds), but a `&str` becomes
//! one only by saying which: `GroupId::from(text)` at the edge where it
//! arrives (a URL, a form, a token), which also trims it.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(transparent))]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                if id.trim().len() == id.len() {
                    Self(id)
                } else {
                    Self(id.trim().to_owned())
                }
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.trim().to_owned())
            }
        }

        impl From<&String> for $name {
            fn from(id: &String) -> Self {
                Self(id.trim().to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<&$name> for $name {
            fn eq(&self, other: &&$name) -> bool {
                self == *other
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }
    };
}

id_type!(
    /// An account (Aiven's `account_id`).
    AccountId
);
id_type!(
    /// A person who signs in.
    UserId
);
id_type!(
    /// A billing group (Aiven's `billing_group_id`).
    GroupId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_its_text_in_json_and_on_screen() {
        let id = GroupId::from("bg-1");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"bg-1\"");
        assert_eq!(serde_json::from_str::<GroupId>("\"bg-1\"").unwrap(), id);
        assert_eq!(id.to_string(), "bg-1");
        assert_eq!(id, "bg-1");
        assert_eq!(GroupId::from(" bg-1\n"), id);
    }
}
