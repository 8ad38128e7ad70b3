//! The S3 listener: Host/Origin policy, a request id on every response,
//! and `s3s` with our auth, grants and operations. Operations not listed
//! here answer `NotImplemented` (s3s's default), never a fake success.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use s3s::dto::*;
use s3s::host::{S3Host, VirtualHost};
use s3s::service::S3ServiceBuilder;
use s3s::{S3, S3Request, S3Response, S3Result};

use super::access::Grants;
use super::auth::KeyStoreAuth;
use super::{buckets, delete, listing, multipart, objects};
use crate::http::host_policy::HostPolicy;
use crate::state::AppState;

/// The id of one request, in `x-amz-request-id` and error bodies.
#[derive(Clone)]
pub struct RequestId(pub String);

pub fn router(state: AppState, addr: SocketAddr) -> Router {
    let mut b = S3ServiceBuilder::new(Gateway(state.clone()));
    b.set_auth(KeyStoreAuth(state.clone()));
    b.set_access(Grants(state.clone()));
    b.set_host(LocalHost);
    let service = b.build();
    let s3 = axum::error_handling::HandleError::new(service, |e: s3s::HttpError| async move {
        tracing::error!("S3 request failed: {e:?}");
        StatusCode::INTERNAL_SERVER_ERROR
    });
    let policy = Arc::new(HostPolicy::new(addr, false));
    Router::new()
        .fallback_service(s3)
        .layer(middleware::from_fn_with_state(policy, guard))
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            crate::http::observe::observe,
        ))
}

/// Path-style requests to our own loopback names, and virtual-hosted ones
/// to `<bucket>.localhost`.
struct LocalHost;

impl S3Host for LocalHost {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        let name = host.rsplit_once(':').map_or(host, |(h, p)| {
            if p.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                host
            }
        });
        match name.strip_suffix(".localhost") {
            Some(bucket) if !bucket.is_empty() => Ok(VirtualHost::new(host).with_bucket(bucket)),
            _ => Ok(VirtualHost::new(host)),
        }
    }
}

/// Whether `host` is `<bucket>.localhost:<port>` for our port.
fn virtual_host_ok(host: Option<&HeaderValue>, port: u16) -> bool {
    host.and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_suffix(&format!(":{port}")))
        .and_then(|h| h.strip_suffix(".localhost"))
        .is_some_and(|b| {
            !b.is_empty()
                && b.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
        })
}

fn xml_error(status: StatusCode, code: &str, message: &str, request_id: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
    );
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/xml"));
    r
}

/// Host/Origin check (DNS rebinding, cross-site pages) and the request id.
async fn guard(State(policy): State<Arc<HostPolicy>>, mut req: Request, next: Next) -> Response {
    let id = hex::encode(holdfast_core::identity::crypto::random_bytes::<8>()).to_uppercase();
    let port = req
        .uri()
        .authority()
        .and_then(|a| a.port_u16())
        .or_else(|| {
            req.headers()
                .get("host")
                .and_then(|h| h.to_str().ok())
                .and_then(|h| h.rsplit_once(':'))
                .and_then(|(_, p)| p.parse().ok())
        });
    let allowed = match policy.check(req.uri(), req.headers()) {
        Ok(()) => Ok(()),
        Err(refusal) => {
            let vhost = port.is_some_and(|p| virtual_host_ok(req.headers().get("host"), p))
                && !req.headers().contains_key("origin");
            if vhost { Ok(()) } else { Err(refusal) }
        }
    };
    let mut res = match allowed {
        Ok(()) => {
            req.extensions_mut().insert(RequestId(id.clone()));
            next.run(req).await
        }
        Err(refusal) => xml_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            refusal.message(),
            &id,
        ),
    };
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&id) {
        h.insert("x-amz-request-id", v.clone());
        h.insert("x-amz-id-2", v);
    }
    h.insert("server", HeaderValue::from_static("Holdfast"));
    res
}

/// Names the request id in an error body too.
fn tag<T>(req_id: Option<String>, r: S3Result<T>) -> S3Result<T> {
    r.map_err(|mut e| {
        if let Some(id) = req_id {
            e.set_request_id(id);
        }
        e
    })
}

fn rid<T>(req: &S3Request<T>) -> Option<String> {
    req.extensions.get::<RequestId>().map(|r| r.0.clone())
}

#[derive(Clone)]
struct Gateway(AppState);

macro_rules! ops {
    ($($name:ident: $input:ty => $output:ty = $handler:path;)*) => {
        #[async_trait::async_trait]
        impl S3 for Gateway {
            $(
                async fn $name(&self, req: S3Request<$input>) -> S3Result<S3Response<$output>> {
                    let id = rid(&req);
                    tag(id, $handler(&self.0, req).await)
                }
            )*
        }
    };
}

ops! {
    list_buckets: ListBucketsInput => ListBucketsOutput = buckets::list;
    head_bucket: HeadBucketInput => HeadBucketOutput = buckets::head;
    create_bucket: CreateBucketInput => CreateBucketOutput = buckets::create;
    delete_bucket: DeleteBucketInput => DeleteBucketOutput = buckets::delete;
    get_bucket_location: GetBucketLocationInput => GetBucketLocationOutput = buckets::location;
    get_bucket_versioning: GetBucketVersioningInput => GetBucketVersioningOutput = buckets::get_versioning;
    put_bucket_versioning: PutBucketVersioningInput => PutBucketVersioningOutput = buckets::put_versioning;
    list_objects_v2: ListObjectsV2Input => ListObjectsV2Output = listing::list_v2;
    list_objects: ListObjectsInput => ListObjectsOutput = listing::list_v1;
    list_object_versions: ListObjectVersionsInput => ListObjectVersionsOutput = listing::list_versions;
    put_object: PutObjectInput => PutObjectOutput = objects::put;
    get_object: GetObjectInput => GetObjectOutput = objects::get;
    head_object: HeadObjectInput => HeadObjectOutput = objects::head;
    copy_object: CopyObjectInput => CopyObjectOutput = objects::copy;
    delete_object: DeleteObjectInput => DeleteObjectOutput = delete::delete;
    delete_objects: DeleteObjectsInput => DeleteObjectsOutput = delete::delete_many;
    create_multipart_upload: CreateMultipartUploadInput => CreateMultipartUploadOutput = multipart::create;
    upload_part: UploadPartInput => UploadPartOutput = multipart::upload_part;
    upload_part_copy: UploadPartCopyInput => UploadPartCopyOutput = multipart::upload_part_copy;
    list_parts: ListPartsInput => ListPartsOutput = multipart::list_parts;
    complete_multipart_upload: CompleteMultipartUploadInput => CompleteMultipartUploadOutput = multipart::complete;
    abort_multipart_upload: AbortMultipartUploadInput => AbortMultipartUploadOutput = multipart::abort;
    list_multipart_uploads: ListMultipartUploadsInput => ListMultipartUploadsOutput = multipart::list_uploads;
}
