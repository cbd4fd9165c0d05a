//! Login, tokens and users.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::db::enums::Role;
use crate::db::models::user::User;
use crate::domain::ids::{FacilityId, UserId};
use crate::views::{envelope, list_page};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(min_length = 1, max_length = 64)]
    #[validate(length(min = 1, max = 64), custom(function = "crate::views::text::single_line"))]
    pub username: String,
    #[schema(min_length = 1, max_length = 1024)]
    #[validate(length(min = 1, max = 1024))]
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: i64,
    /// The password was reset by an admin: the token reaches only `GET /auth/me` and
    /// `POST /auth/password` until the password is changed.
    pub password_change_required: bool,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    /// 3 to 64 characters: lower-case letters, digits, `.`, `_`, `-`.
    #[schema(min_length = 3, max_length = 64)]
    #[validate(length(min = 3, max = 64), custom(function = "crate::views::text::single_line"))]
    pub username: String,
    #[schema(min_length = 12, max_length = 1024)]
    #[validate(length(min = 12, max = 1024, message = "must be 12 to 1024 characters"))]
    pub password: String,
    pub role: Role,
    /// Required for `regulator` and `ministry`; for facility roles it must match the facility.
    #[validate(custom(function = "crate::views::text::single_line"))]
    pub country_code: Option<String>,
    /// Required for `pharmacy` and `wholesaler`.
    #[schema(value_type = Option<i64>)]
    pub facility_id: Option<FacilityId>,
}

/// An optional reason, kept in the audit log.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    #[validate(length(min = 1, max = 1000))]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// A temporary password, 12 to 1024 characters, to hand to the user.
    #[validate(length(min = 12, max = 1024, message = "must be 12 to 1024 characters"))]
    pub new_password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeRequest {
    #[validate(length(min = 1, max = 1024))]
    pub current_password: String,
    /// 12 to 1024 characters, not the current password.
    #[validate(length(min = 12, max = 1024, message = "must be 12 to 1024 characters"))]
    pub new_password: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    #[schema(value_type = i64)]
    pub id: UserId,
    pub username: String,
    pub role: Role,
    pub country_code: Option<String>,
    #[schema(value_type = Option<i64>)]
    pub facility_id: Option<FacilityId>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id,
            username: u.username,
            role: u.role,
            country_code: u.country_code,
            facility_id: u.facility_id,
            active: u.active,
            created_at: u.created_at,
        }
    }
}

envelope!(UserEnvelope, user, UserView);
list_page!(UserList, users, UserView);
