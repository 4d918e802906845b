//! Which answer a request head gets: the three GET routes of `/debug/pprof/` (the index, the
//! profile, the text table), `405` for another method and `404` for another path.
//!
//! A pure function from the parsed head to a [`Response`] value, so that the routes are read in one
//! place and what is on the socket (`http.rs`) is written in one place.

use super::head::Head;
use super::http::Response;
use super::render;

/// The answer to `head`. A HEAD gets the same answer as a GET; its body is left out when it is
/// sent.
pub(super) fn route(head: &Head) -> Response {
    if head.method != "GET" && head.method != "HEAD" {
        let body = format!("405 method {} not allowed: only GET\n", head.method);
        return Response::text(405, body).with_headers(&[("Allow", "GET, HEAD")]);
    }
    let debug = head
        .query
        .split('&')
        .find_map(|kv| kv.strip_prefix("debug="))
        .map(|v| v != "0")
        .unwrap_or(false);
    match head.path.as_str() {
        "/debug/pprof/" | "/debug/pprof" => {
            Response::new(200, "text/html; charset=utf-8", render::index())
        }
        "/debug/pprof/timers" if debug => Response::text(200, render::table()),
        "/debug/pprof/timers" => profile(),
        other => {
            let shown: String = other.chars().take(200).collect();
            Response::text(
                404,
                format!(
                    "404 page not found: {shown}\nThe timer profile is at /debug/pprof/timers \
                     (?debug=1 for text); the index is at /debug/pprof/\n"
                ),
            )
        }
    }
}

/// The profile of [`write_pprof`](crate::profile::write_pprof), as a download.
fn profile() -> Response {
    let mut body = Vec::new();
    match crate::profile::write_pprof(&mut body) {
        Ok(()) => Response::new(200, "application/octet-stream", body).with_headers(&[
            ("Content-Disposition", "attachment; filename=\"timers\""),
            ("X-Content-Type-Options", "nosniff"),
        ]),
        Err(e) => Response::text(500, format!("500 could not write the profile: {e}\n")),
    }
}
