//! Agencies, users, browser sessions and API tokens.
use crate::db::Store;
use crate::error::StoreError;
use crate::records::parse_uuid;
use amparo_domain::audit::{Action, NewEntry};
use amparo_domain::policy::Role;
use chrono::Utc;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize)]
pub struct Agency {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct UserRow {
    pub id: Uuid,
    pub username: String,
    pub agency_id: Uuid,
    pub roles: Vec<Role>,
    pub facilities: Vec<Uuid>,
    pub must_change_password: bool,
    pub disabled: bool,
    pub language: String,
    #[serde(skip)]
    pub password_hash: String,
    /// The TOTP secret (base32) once a second factor is enrolled.
    #[serde(skip)]
    pub totp_secret: Option<String>,
}

pub struct NewUser {
    pub username: String,
    pub agency_id: Uuid,
    pub roles: Vec<Role>,
    pub facilities: Vec<Uuid>,
    pub password_hash: String,
    pub must_change_password: bool,
    pub language: String,
}

#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub user: UserRow,
    pub csrf_token: String,
    pub created_unix: i64,
    pub last_seen_unix: i64,
}

const USER_COLUMNS: &str = "u.id, u.username, u.agency_id, u.roles, u.facilities, \
    u.must_change_password, u.disabled, u.language, u.password_hash, u.totp_secret";

fn user_row(r: &AnyRow) -> Result<UserRow, StoreError> {
    let roles: String = r.try_get("roles")?;
    let facilities: String = r.try_get("facilities")?;
    Ok(UserRow {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        username: r.try_get("username")?,
        agency_id: parse_uuid(&r.try_get::<String, _>("agency_id")?)?,
        roles: roles
            .split(',')
            .filter(|s| !s.is_empty())
            .map(Role::parse)
            .collect::<Result<_, _>>()
            .map_err(StoreError::Corrupt)?,
        facilities: facilities
            .split(',')
            .filter(|s| !s.is_empty())
            .map(parse_uuid)
            .collect::<Result<_, _>>()?,
        must_change_password: r.try_get::<i64, _>("must_change_password")? != 0,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        language: r.try_get("language")?,
        password_hash: r.try_get("password_hash")?,
        totp_secret: r
            .try_get::<Option<String>, _>("totp_secret")?
            .filter(|s| !s.is_empty()),
    })
}

fn roles_text(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

impl Store {
    /// Find an agency by name, creating it if needed.
    pub async fn ensure_agency(&self, actor: &str, name: &str) -> Result<Agency, StoreError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(StoreError::Conflict(
                "agency name must be 1 to 200 characters".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        let existing: Option<String> =
            sqlx::query_scalar("SELECT id FROM agencies WHERE name = $1")
                .bind(name.to_string())
                .fetch_optional(&mut *tx.tx)
                .await?;
        if let Some(id) = existing {
            return Ok(Agency {
                id: parse_uuid(&id)?,
                name: name.to_string(),
            });
        }
        let id = Uuid::now_v7();
        sqlx::query("INSERT INTO agencies (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(id.to_string())
            .bind(name.to_string())
            .bind(tx.now.to_rfc3339())
            .execute(&mut *tx.tx)
            .await?;
        tx.audit(NewEntry {
            actor: actor.to_string(),
            action: Action::UserAdmin,
            record_kind: Some("agency".into()),
            record_id: Some(id.to_string()),
            summary: format!("created agency {name}"),
        });
        tx.commit().await?;
        Ok(Agency {
            id,
            name: name.to_string(),
        })
    }

    /// An existing agency by its name (nothing is created).
    pub async fn agency_by_name(&self, name: &str) -> Result<Option<Agency>, StoreError> {
        let id: Option<String> = sqlx::query_scalar("SELECT id FROM agencies WHERE name = $1")
            .bind(name.trim().to_string())
            .fetch_optional(&self.pool)
            .await?;
        id.map(|i| {
            Ok(Agency {
                id: parse_uuid(&i)?,
                name: name.trim().to_string(),
            })
        })
        .transpose()
    }

    pub async fn agency_name(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT name FROM agencies WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn count_users(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?)
    }

    pub async fn create_user(&self, actor: &str, new: NewUser) -> Result<UserRow, StoreError> {
        let mut tx = self.begin_write().await?;
        let taken: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
            .bind(new.username.clone())
            .fetch_optional(&mut *tx.tx)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!(
                "username '{}' is taken: choose another",
                new.username
            )));
        }
        let id = Uuid::now_v7();
        let now = tx.now.to_rfc3339();
        let facilities = new
            .facilities
            .iter()
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join(",");
        sqlx::query(
            "INSERT INTO users (id, username, agency_id, roles, facilities, password_hash, \
             must_change_password, disabled, language, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $10)",
        )
        .bind(id.to_string())
        .bind(new.username.clone())
        .bind(new.agency_id.to_string())
        .bind(roles_text(&new.roles))
        .bind(facilities)
        .bind(new.password_hash.clone())
        .bind(i64::from(new.must_change_password))
        .bind(new.language.clone())
        .bind(now.clone())
        .bind(now)
        .execute(&mut *tx.tx)
        .await?;
        tx.audit(NewEntry {
            actor: actor.to_string(),
            action: Action::UserAdmin,
            record_kind: Some("user".into()),
            record_id: Some(id.to_string()),
            summary: format!(
                "created user {} with roles {}",
                new.username,
                roles_text(&new.roles)
            ),
        });
        tx.commit().await?;
        Ok(UserRow {
            id,
            username: new.username,
            agency_id: new.agency_id,
            roles: new.roles,
            facilities: new.facilities,
            must_change_password: new.must_change_password,
            disabled: false,
            language: new.language,
            password_hash: new.password_hash,
            totp_secret: None,
        })
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.username = $1");
        let row = sqlx::query(&sql)
            .bind(username.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_row).transpose()
    }

    pub async fn user_by_id(&self, id: Uuid) -> Result<Option<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
        let row = sqlx::query(&sql)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_row).transpose()
    }

    pub async fn list_users(&self) -> Result<Vec<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.username");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(user_row).collect()
    }

    /// Set a new password; all other sessions of the user end.
    pub async fn set_password(
        &self,
        actor: &str,
        user_id: Uuid,
        password_hash: &str,
        must_change: bool,
        keep_session: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(password_hash.to_string())
        .bind(i64::from(must_change))
        .bind(tx.now.to_rfc3339())
        .bind(user_id.to_string())
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user_id.to_string())
            .bind(keep_session.unwrap_or("").to_string())
            .execute(&mut *tx.tx)
            .await?;
        tx.audit(NewEntry {
            actor: actor.to_string(),
            action: Action::PasswordChange,
            record_kind: Some("user".into()),
            record_id: Some(user_id.to_string()),
            summary: if must_change {
                "password reset; must be changed at next login".into()
            } else {
                "password changed".into()
            },
        });
        tx.commit().await?;
        Ok(())
    }

    /// Change what a user may do. Their sessions end so the new roles apply at once.
    pub async fn set_roles(
        &self,
        actor: &str,
        user_id: Uuid,
        roles: &[Role],
        facilities: &[Uuid],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let facilities_text = facilities
            .iter()
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let n = sqlx::query(
            "UPDATE users SET roles = $1, facilities = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(roles_text(roles))
        .bind(facilities_text.clone())
        .bind(tx.now.to_rfc3339())
        .bind(user_id.to_string())
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id.to_string())
            .execute(&mut *tx.tx)
            .await?;
        tx.audit(NewEntry {
            actor: actor.to_string(),
            action: Action::UserAdmin,
            record_kind: Some("user".into()),
            record_id: Some(user_id.to_string()),
            summary: format!(
                "roles set to {}; facilities: {}",
                roles_text(roles),
                if facilities_text.is_empty() {
                    "none".into()
                } else {
                    facilities_text
                }
            ),
        });
        tx.commit().await?;
        Ok(())
    }

    /// The interface language a user chose (a preference: not audited).
    pub async fn set_language(&self, user_id: Uuid, language: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET language = $1 WHERE id = $2")
            .bind(language.to_string())
            .bind(user_id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Enrol (`Some(secret, step of the code that confirmed it)`) or remove (`None`) a
    /// user's second factor, in the audit chain.
    pub async fn set_second_factor(
        &self,
        actor: &str,
        user_id: Uuid,
        enrolment: Option<(&str, i64)>,
    ) -> Result<(), StoreError> {
        let secret = enrolment.map(|e| e.0);
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE users SET totp_secret = $1, totp_last_step = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(secret.map(str::to_string))
        .bind(enrolment.map(|e| e.1))
        .bind(tx.now.to_rfc3339())
        .bind(user_id.to_string())
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.audit(NewEntry {
            actor: actor.to_string(),
            action: Action::UserAdmin,
            record_kind: Some("user".into()),
            record_id: Some(user_id.to_string()),
            summary: if secret.is_some() {
                "second factor (TOTP) enrolled".into()
            } else {
                "second factor removed".into()
            },
        });
        tx.commit().await?;
        Ok(())
    }

    /// Disable or re-enable an account. Disabling ends its sessions and tokens at once.
    pub async fn set_disabled(
        &self,
        actor: &str,
        user_id: Uuid,
        disabled: bool,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3")
            .bind(i64::from(disabled))
            .bind(tx.now.to_rfc3339())
            .bind(user_id.to_string())
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id.to_string())
                .execute(&mut *tx.tx)
                .await?;
            sqlx::query("DELETE FROM api_tokens WHERE user_id = $1")
                .bind(user_id.to_string())
                .execute(&mut *tx.tx)
                .await?;
        }
        tx.audit(NewEntry {
            actor: actor.to_string(),
            action: Action::UserAdmin,
            record_kind: Some("user".into()),
            record_id: Some(user_id.to_string()),
            summary: if disabled {
                "account disabled; sessions and tokens ended".into()
            } else {
                "account enabled".into()
            },
        });
        tx.commit().await?;
        Ok(())
    }

    /// Create a session at login, in the same transaction as the login's audit entry.
    /// Use up a second-factor time step: true only the first time a code of this step
    /// (or a later one) is offered, so a code cannot be replayed. One conditional UPDATE,
    /// so two sign-ins racing with the same code cannot both win.
    pub async fn claim_totp_step(&self, user_id: Uuid, step: i64) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 \
             AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(user_id.to_string())
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n == 1)
    }

    pub async fn create_session(
        &self,
        user: &UserRow,
        token_hash: &str,
        csrf_token: &str,
        client: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let now = Utc::now().timestamp();
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_unix, last_seen_unix) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash.to_string())
        .bind(user.id.to_string())
        .bind(csrf_token.to_string())
        .bind(now)
        .bind(now)
        .execute(&mut *tx.tx)
        .await?;
        tx.audit(NewEntry {
            actor: user.username.clone(),
            action: Action::Login,
            record_kind: Some("user".into()),
            record_id: Some(user.id.to_string()),
            summary: format!("signed in from {client}"),
        });
        tx.commit().await?;
        Ok(())
    }

    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionInfo>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, s.csrf_token, s.created_unix, s.last_seen_unix \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1"
        );
        let row = sqlx::query(&sql)
            .bind(token_hash.to_string())
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some(SessionInfo {
                user: user_row(&r)?,
                csrf_token: r.try_get("csrf_token")?,
                created_unix: r.try_get("created_unix")?,
                last_seen_unix: r.try_get("last_seen_unix")?,
            })),
        }
    }

    pub async fn touch_session(&self, token_hash: &str, now_unix: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET last_seen_unix = $1 WHERE token_hash = $2")
            .bind(now_unix)
            .bind(token_hash.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn end_session(&self, token_hash: &str, actor: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash.to_string())
            .execute(&mut *tx.tx)
            .await?;
        tx.audit(NewEntry {
            actor: actor.to_string(),
            action: Action::Logout,
            record_kind: None,
            record_id: None,
            summary: "signed out".into(),
        });
        tx.commit().await?;
        Ok(())
    }

    /// Forget sessions past their lifetime (called now and then by the server).
    pub async fn purge_sessions(
        &self,
        created_before: i64,
        idle_before: i64,
    ) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM sessions WHERE created_unix < $1 OR last_seen_unix < $2")
                .bind(created_before)
                .bind(idle_before)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    pub async fn create_token(
        &self,
        actor: &str,
        user_id: Uuid,
        token_hash: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO api_tokens (token_hash, user_id, created_at) VALUES ($1, $2, $3)")
            .bind(token_hash.to_string())
            .bind(user_id.to_string())
            .bind(tx.now.to_rfc3339())
            .execute(&mut *tx.tx)
            .await?;
        tx.audit(NewEntry {
            actor: actor.to_string(),
            action: Action::TokenCreate,
            record_kind: Some("user".into()),
            record_id: Some(user_id.to_string()),
            summary: "API token created".into(),
        });
        tx.commit().await?;
        Ok(())
    }

    pub async fn token_user(&self, token_hash: &str) -> Result<Option<UserRow>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1"
        );
        let row = sqlx::query(&sql)
            .bind(token_hash.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_row).transpose()
    }
}
