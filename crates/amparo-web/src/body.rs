//! Reading request bodies and query strings into problems a person can act on.
use crate::error::ApiError;
use amparo_domain::Invalid;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Parse a JSON body; syntax errors are 400, wrong shapes 422 naming the field.
pub fn json_value(body: Result<Bytes, BytesRejection>) -> Result<Value, ApiError> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too large",
                "The request body is larger than 1 MiB. Send less at once.",
            )
        } else {
            ApiError::bad_request(format!("The request body could not be read: {e}"))
        }
    })?;
    if bytes.is_empty() {
        return Err(ApiError::bad_request(
            "The request body is empty: send a JSON object.",
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "The request body is not valid JSON ({e}). Check quotes, commas and brackets."
        ))
    })
}

/// Turn a JSON value into a typed input, naming the field that does not fit.
pub fn typed<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::invalid(Invalid::one(
            "",
            "the body must be a JSON object",
        )));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { String::new() } else { path };
        ApiError::invalid(Invalid::one(field, e.into_inner().to_string()))
    })
}
