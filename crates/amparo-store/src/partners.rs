//! Partner agencies abroad and their public keys.
use crate::error::StoreError;
use crate::records::parse_uuid;
use crate::Store;
use amparo_domain::audit::{Action, NewEntry};
use serde::Serialize;
use sqlx::Row;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize)]
pub struct Partner {
    pub id: Uuid,
    pub name: String,
    pub country: String,
    pub signing_key: String,
    pub age_recipient: String,
    pub created_at: String,
}

fn row_partner(r: &sqlx::any::AnyRow) -> Result<Partner, StoreError> {
    Ok(Partner {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        name: r.try_get("name")?,
        country: r.try_get("country")?,
        signing_key: r.try_get("signing_key")?,
        age_recipient: r.try_get("age_recipient")?,
        created_at: r.try_get("created_at")?,
    })
}

impl Store {
    pub async fn add_partner(
        &self,
        actor: &str,
        agency: Uuid,
        name: &str,
        country: &str,
        signing_key: &str,
        age_recipient: &str,
    ) -> Result<Partner, StoreError> {
        let mut tx = self.begin_write().await?;
        let exists: Option<String> = sqlx::query_scalar(
            "SELECT id FROM partners WHERE agency_id = $1 AND (name = $2 OR signing_key = $3)",
        )
        .bind(agency.to_string())
        .bind(name.to_string())
        .bind(signing_key.to_string())
        .fetch_optional(&mut *tx.tx)
        .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(format!(
                "a partner named '{name}' or with this signing key is registered already"
            )));
        }
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO partners (id, agency_id, name, country, signing_key, age_recipient, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.to_string())
        .bind(agency.to_string())
        .bind(name.to_string())
        .bind(country.to_string())
        .bind(signing_key.to_string())
        .bind(age_recipient.to_string())
        .bind(tx.now.to_rfc3339())
        .bind(actor.to_string())
        .execute(&mut *tx.tx)
        .await?;
        tx.audit(NewEntry {
            actor: actor.to_string(),
            action: Action::UserAdmin,
            record_kind: Some("partner".into()),
            record_id: Some(id.to_string()),
            summary: format!("registered partner agency {name} ({country})"),
        });
        let now = tx.now.to_rfc3339();
        tx.commit().await?;
        Ok(Partner {
            id,
            name: name.to_string(),
            country: country.to_string(),
            signing_key: signing_key.to_string(),
            age_recipient: age_recipient.to_string(),
            created_at: now,
        })
    }

    pub async fn partners(&self, agency: Uuid) -> Result<Vec<Partner>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, country, signing_key, age_recipient, created_at FROM partners \
             WHERE agency_id = $1 ORDER BY name",
        )
        .bind(agency.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_partner).collect()
    }

    /// Write an audit entry of its own (an export or import of a package).
    pub async fn audit_note(
        &self,
        actor: &str,
        action: Action,
        kind: &str,
        id: Option<Uuid>,
        summary: String,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        tx.audit(NewEntry {
            actor: actor.to_string(),
            action,
            record_kind: Some(kind.to_string()),
            record_id: id.map(|i| i.to_string()),
            summary,
        });
        tx.commit().await?;
        Ok(())
    }
}
