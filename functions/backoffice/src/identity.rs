//! Who is asking, and what they may do. Both sign-in paths (the local accounts of `orderflow
//! serve`, Cognito behind the REQUEST authorizer in AWS) end in the same [`Identity`].

/// Viewers read; operators read and act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Operator,
}

impl Role {
    /// The group names of the user pool (and of the local accounts file).
    pub const VIEWERS: &'static str = "viewers";
    pub const OPERATORS: &'static str = "operators";

    /// The strongest role the groups give; none of ours gives no access at all.
    pub fn from_groups<'a>(groups: impl IntoIterator<Item = &'a str>) -> Option<Role> {
        let mut role = None;
        for group in groups {
            match group.trim() {
                Self::OPERATORS => return Some(Role::Operator),
                Self::VIEWERS => role = Some(Role::Viewer),
                _ => {}
            }
        }
        role
    }

    pub fn group(self) -> &'static str {
        match self {
            Role::Viewer => Self::VIEWERS,
            Role::Operator => Self::OPERATORS,
        }
    }
}

/// A signed-in person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Identity {
    /// The user name (local account, or the pool's `cognito:username`).
    pub name: String,
    pub role: Role,
}

impl Identity {
    /// How the history names this person: `operator:<name>`, so an audit line says who acted.
    pub fn actor(&self) -> String {
        format!("operator:{}", self.name)
    }

    pub fn can_act(&self) -> bool {
        self.role == Role::Operator
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_outrank_viewers_and_other_groups_give_nothing() {
        assert_eq!(Role::from_groups(["viewers", "operators"]), Some(Role::Operator));
        assert_eq!(Role::from_groups(["viewers"]), Some(Role::Viewer));
        assert_eq!(Role::from_groups(["admins", "Operators"]), None);
        assert_eq!(Role::from_groups([]), None);
    }
}
