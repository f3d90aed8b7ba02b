//! One error type for the HTTP edge, answered as RFC 9457 problem+json.
use amparo_domain::{FieldError, Invalid};
use amparo_store::StoreError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Extra headers (Retry-After, ETag).
    pub headers: Vec<(header::HeaderName, String)>,
}

impl ApiError {
    pub fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            headers: Vec::new(),
        }
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Bad request", detail)
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Not signed in", detail)
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Not allowed", detail)
    }
    /// Used both for records that do not exist and for those the caller may not know of.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Not found",
            "No record with this id is available to you. Check the id or search by name or case number.",
        )
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "Conflict", detail)
    }
    pub fn invalid(inv: Invalid) -> Self {
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid value",
            inv.to_string(),
        );
        e.errors = inv.0;
        e
    }
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error",
            "Something went wrong on the server. Nothing was changed. Try again; if it happens again, tell your administrator the time it happened.",
        )
    }
    pub fn with_header(mut self, name: header::HeaderName, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found(),
            StoreError::Stale { current_version } => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "Changed meanwhile",
                format!(
                    "Someone changed this record after you read it (it is now at version {current_version}). Nothing was saved: reload it, look at what changed, and make your change again."
                ),
            )
            .with_header(header::ETAG, format!("\"{current_version}\"")),
            StoreError::Conflict(m) => ApiError::conflict(m),
            StoreError::Invalid(i) => ApiError::invalid(i),
            StoreError::Db(err) => {
                tracing::error!(error = %err, "database error");
                ApiError::internal()
            }
            StoreError::Corrupt(m) => {
                tracing::error!(error = %m, "stored data could not be read");
                ApiError::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": "about:blank",
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if !self.errors.is_empty() {
            body["errors"] = json!(self.errors);
        }
        let mut resp = (self.status, body.to_string()).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                resp.headers_mut().insert(name, v);
            }
        }
        resp
    }
}

impl ApiError {
    /// For pages: the same status, as plain text a person can read.
    pub fn into_response_page(self) -> Response {
        (self.status, self.detail).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
