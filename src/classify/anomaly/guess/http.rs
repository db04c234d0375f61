//! HTTP/1.x: a request line (method, path, version) with `Host` and `User-Agent`, or a status
//! line with `Server`. Only the head in the sample is read; nothing is reassembled.

use crate::event::anomaly::{HttpRequest, HttpResponse};

const METHODS: [&str; 9] = [
    "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH", "TRACE",
];
/// Longest header value kept in an event.
const MAX_VALUE: usize = 256;
/// Header lines are looked for in this many bytes at most.
const MAX_HEAD: usize = 4096;

fn clip(b: &[u8]) -> String {
    let b = &b[..b.len().min(MAX_VALUE)];
    String::from_utf8_lossy(b).into_owned()
}

fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

fn header<'a>(data: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let data = &data[..data.len().min(MAX_HEAD)];
    // Skip the start line; stop at the blank line ending the head.
    for line in lines(data).skip(1).take_while(|l| !l.is_empty()) {
        let colon = line.iter().position(|&b| b == b':')?;
        if line[..colon].eq_ignore_ascii_case(name.as_bytes()) {
            let v = &line[colon + 1..];
            let start = v
                .iter()
                .position(|&b| b != b' ' && b != b'\t')
                .unwrap_or(v.len());
            return Some(&v[start..]);
        }
    }
    None
}

fn is_version(v: &[u8]) -> bool {
    v.len() == 8
        && v.starts_with(b"HTTP/")
        && v[5].is_ascii_digit()
        && v[6] == b'.'
        && v[7].is_ascii_digit()
}

/// `METHOD SP target SP HTTP/x.y` at the very start of `data`.
pub fn parse_request(data: &[u8]) -> Option<HttpRequest> {
    let first = lines(data).next()?;
    let mut parts = first.splitn(3, |&b| b == b' ');
    let method = parts.next()?;
    if !METHODS.iter().any(|m| m.as_bytes() == method) {
        return None;
    }
    let path = parts.next()?;
    // A request line cut off by the sample still counts when the method and a target are there.
    let version = parts.next().unwrap_or(b"");
    if path.is_empty() || !(version.is_empty() || is_version(version)) {
        return None;
    }
    Some(HttpRequest {
        method: clip(method),
        path: clip(path),
        version: clip(version),
        host: header(data, "host").map(clip),
        user_agent: header(data, "user-agent").map(clip),
    })
}

/// `HTTP/x.y SP 3DIGIT ...` at the start of `data`.
pub fn parse_response(data: &[u8]) -> Option<HttpResponse> {
    let first = lines(data).next()?;
    let version = first.get(..8)?;
    if !is_version(version) || first.get(8) != Some(&b' ') {
        return None;
    }
    let code = first.get(9..12)?;
    if !code.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let status = code.iter().fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
    Some(HttpResponse {
        version: clip(version),
        status,
        server: header(data, "server").map(clip),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_request() {
        let r = parse_request(b"GET /update?x=1 HTTP/1.1\r\nHost: 127.0.0.1:3232\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n")
            .unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "/update?x=1");
        assert_eq!(r.version, "HTTP/1.1");
        assert_eq!(r.host.as_deref(), Some("127.0.0.1:3232"));
        assert_eq!(r.user_agent.as_deref(), Some("curl/7.88.1"));
        assert_eq!(parse_request(b"GETX / HTTP/1.1\r\n"), None);
        assert_eq!(parse_request(b"GET / FOO\r\n"), None);
        assert_eq!(parse_request(b"0 3232 4096 abc\n"), None);
    }

    #[test]
    fn response_with_server() {
        let r = parse_response(b"HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\n\r\n")
            .unwrap();
        assert_eq!((r.version.as_str(), r.status), ("HTTP/1.0", 200));
        assert_eq!(r.server.as_deref(), Some("SimpleHTTP/0.6 Python/3.11.2"));
        assert_eq!(parse_response(b"HTTP/1.1 2x0 OK"), None);
        assert_eq!(parse_response(b"OK"), None);
    }
}
