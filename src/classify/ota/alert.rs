//! The subject of an OTA `alert` event: which protocol, session, flow, uploader and device it
//! is about. The per-uploader brute-force tracker spans flows and lives in the aggregator.

use crate::event::alert::AlertDetails;
use crate::event::{AuthScheme, OtaProtocol};
use std::net::IpAddr;

/// Who and what an OTA alert is about; [`AlertSubject::details`] fills in the finding.
#[derive(Clone, Copy, Debug)]
pub struct AlertSubject {
    pub protocol: OtaProtocol,
    pub session_id: Option<u64>,
    pub flow_id: Option<u64>,
    pub uploader: IpAddr,
    pub device: IpAddr,
}

impl AlertSubject {
    /// The alert's details: `detail` in words and the authentication scheme seen, if any.
    pub fn details(&self, detail: String, auth_scheme: Option<AuthScheme>) -> AlertDetails {
        AlertDetails {
            protocol: self.protocol,
            detail,
            session_id: self.session_id,
            flow_id: self.flow_id,
            uploader: self.uploader,
            device: self.device,
            auth_scheme,
            failures: None,
            window_s: None,
        }
    }
}
