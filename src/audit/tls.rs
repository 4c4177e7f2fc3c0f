//! `audit --tls HOST:PORT`: what a modern client gets from an endpoint, and whether an old one is let in.
//!
//! Per endpoint, first one handshake with rustls (TLS 1.2 and 1.3 on ring): the negotiated protocol and
//! cipher, and the certificates the server sends. The handshake accepts any certificate (nothing but
//! close_notify is sent over it); the certificate is judged afterwards, each property on its own so that
//! one problem does not hide another: expiry from its validity dates (x509-cert), the name with webpki, and
//! the chain with webpki against the system roots (the host's trust store through rustls-native-certs,
//! which honours `SSL_CERT_FILE`/`SSL_CERT_DIR`) or the CA file given, at a time inside the certificate's
//! validity, so an expired certificate still says whether it chains.
//!
//! rustls does not speak TLS 1.0 or 1.1, so a second connection sends a hand-built ClientHello that offers
//! at most TLS 1.1 (with the cipher suites servers of that age have) and reads the version of the
//! ServerHello that answers it, or the alert that refuses it. The rest of that server's first flight is
//! read only for its Certificate message (plaintext below TLS 1.3), so an endpoint that speaks nothing
//! newer still has its certificate judged; then the connection is closed without a reply. An endpoint that
//! answers with TLS 1.0, 1.1 or SSL 3.0 accepts a protocol below 1.2: a finding, also when it negotiates
//! TLS 1.3 with a modern client.
//!
//! Nothing here runs unless endpoints are given (`--tls` or `logveil.audit.tls`).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use x509_cert::der::Decode;

use super::report::{Kind, TlsEndpointReport};
use crate::config::TlsEndpoint;
use crate::units::format_duration;

/// Connect, read and write timeout of each connection.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The most of a legacy server's first flight read to find its certificate.
const MAX_FLIGHT: usize = 256 << 10;

/// What certificates must chain to.
pub struct Trust {
    anchors: Vec<TrustAnchor<'static>>,
    /// `system roots` or `CA file PATH`.
    pub name: String,
    /// Said in the report's notes (e.g. unreadable files in the system store).
    pub notes: Vec<String>,
}

impl Trust {
    /// The system roots, or every certificate of the PEM `ca_file`. A CA file that cannot be read or holds
    /// no certificate is an error (the user named it); system roots that cannot be read are a note.
    pub fn load(ca_file: Option<&Path>) -> Result<Trust, String> {
        let Some(path) = ca_file else {
            let found = rustls_native_certs::load_native_certs();
            let mut notes: Vec<String> = found
                .errors
                .iter()
                .map(|e| format!("tls: system roots: {e}"))
                .collect();
            let anchors: Vec<TrustAnchor<'static>> = found
                .certs
                .iter()
                .filter_map(|c| webpki::anchor_from_trusted_cert(c).ok())
                .map(|a| a.to_owned())
                .collect();
            if anchors.is_empty() {
                notes.push(
                    "tls: no system root certificates found (is ca-certificates installed?)".into(),
                );
            }
            return Ok(Trust {
                anchors,
                name: "system roots".into(),
                notes,
            });
        };
        let what = |e: &dyn std::fmt::Display| format!("TLS CA file {}: {e}", path.display());
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| what(&e))?
            .collect::<Result<_, _>>()
            .map_err(|e| what(&e))?;
        if certs.is_empty() {
            return Err(what(&"no PEM certificate in it"));
        }
        let mut anchors = Vec::new();
        for (i, c) in certs.iter().enumerate() {
            let a = webpki::anchor_from_trusted_cert(c)
                .map_err(|e| what(&format!("certificate #{}: {e}", i + 1)))?;
            anchors.push(a.to_owned());
        }
        Ok(Trust {
            anchors,
            name: format!("CA file {}", path.display()),
            notes: Vec::new(),
        })
    }
}

/// What to judge against.
pub struct Judge<'a> {
    pub trust: &'a Trust,
    pub now: Timestamp,
    /// A certificate expiring within this is a finding.
    pub warning: Duration,
}

/// What one endpoint gave: its report entry, its findings (kind, message), and what could not be checked.
pub struct Checked {
    pub report: TlsEndpointReport,
    pub findings: Vec<(Kind, String)>,
    pub incomplete: Option<String>,
}

/// Checks one endpoint.
pub fn check(ep: &TlsEndpoint, judge: &Judge) -> Checked {
    let mut rep = TlsEndpointReport {
        endpoint: ep.to_string(),
        trusted_by: judge.trust.name.clone(),
        ..TlsEndpointReport::default()
    };
    let mut found = Vec::new();
    // rustls 0.23.48 deprecates its ring provider for lacking post-quantum key exchange, which protects
    // recorded traffic from future decryption: this handshake carries nothing but close_notify, and ring
    // keeps the build small (see Cargo.toml).
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());

    let unreachable = |rep: &mut TlsEndpointReport, found: &mut Vec<_>, error: String| {
        rep.error = Some(error.clone());
        found.push((
            Kind::TlsUnreachable {
                error: error.clone(),
            },
            format!("cannot connect: {error}"),
        ));
    };
    let addrs: Vec<SocketAddr> = match (ep.host.as_str(), ep.port).to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(e) => {
            unreachable(
                &mut rep,
                &mut found,
                format!("cannot resolve {}: {e}", ep.host),
            );
            return Checked {
                report: rep,
                findings: found,
                incomplete: None,
            };
        }
    };
    let (sock, addr) = match connect(&addrs) {
        Ok(c) => c,
        Err(e) => {
            unreachable(&mut rep, &mut found, e);
            return Checked {
                report: rep,
                findings: found,
                incomplete: None,
            };
        }
    };
    rep.address = Some(addr.to_string());
    let name = ServerName::try_from(ep.host.clone()).ok();

    // 1. A modern client.
    let modern = match &name {
        Some(n) => handshake(sock, n.clone(), &provider),
        None => Err(Failure::Other(format!(
            "{:?} is neither a DNS name nor an IP address",
            ep.host
        ))),
    };
    // 2. A client that offers nothing newer than TLS 1.1.
    let sni = name
        .as_ref()
        .filter(|n| matches!(n, ServerName::DnsName(_)))
        .map(|_| ep.host.as_str());
    let legacy = legacy_probe(addr, sni, &provider);
    let incomplete = legacy.as_ref().err().map(|e| {
        format!(
            "whether it accepts TLS 1.0/1.1 is unknown: a ClientHello offering them got {}",
            io_error(e)
        )
    });
    let mut certs = Vec::new();
    if let Ok(Some(l)) = &legacy {
        rep.legacy_protocol = Some(version_name(l.version));
        found.push((
            Kind::TlsOldProtocol {
                protocol: version_name(l.version),
            },
            format!(
                "accepts {} from a client that offers nothing newer (TLS 1.2 is the minimum)",
                version_name(l.version)
            ),
        ));
        certs = l.certs.clone();
    }
    match modern {
        Ok(hs) => {
            rep.protocol = Some(version_name(u16::from(hs.protocol)));
            rep.cipher = Some(
                hs.suite
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{:?}", hs.suite)),
            );
            certs = hs.certs;
        }
        // Reported above as an old protocol.
        Err(Failure::OldProtocolOnly) if rep.legacy_protocol.is_some() => {}
        Err(f) => {
            let error = match f {
                Failure::OldProtocolOnly => "the server wants a protocol older than TLS 1.2".into(),
                Failure::Other(e) => e,
            };
            rep.error = Some(error.clone());
            found.push((
                Kind::TlsHandshakeFailed {
                    error: error.clone(),
                },
                format!("TLS handshake failed: {error}"),
            ));
        }
    }
    if let (Some(name), false) = (&name, certs.is_empty()) {
        judge_certificate(&mut rep, &mut found, &certs, name, judge, &provider);
    }
    Checked {
        report: rep,
        findings: found,
        incomplete,
    }
}

fn connect(addrs: &[SocketAddr]) -> Result<(TcpStream, SocketAddr), String> {
    let mut last = String::from("the name has no address");
    for addr in addrs {
        match TcpStream::connect_timeout(addr, TIMEOUT) {
            Ok(s) => {
                let _ = s.set_read_timeout(Some(TIMEOUT));
                let _ = s.set_write_timeout(Some(TIMEOUT));
                return Ok((s, *addr));
            }
            Err(e) => last = format!("{addr}: {}", io_error(&e)),
        }
    }
    Err(last)
}

fn io_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
            format!("no answer within {}", format_duration(TIMEOUT))
        }
        io::ErrorKind::ConnectionReset => "connection reset by the server".into(),
        io::ErrorKind::UnexpectedEof => "the server closed the connection".into(),
        _ => e.to_string(),
    }
}

fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSLv3".into(),
        0x0301 => "TLSv1.0".into(),
        0x0302 => "TLSv1.1".into(),
        0x0303 => "TLSv1.2".into(),
        0x0304 => "TLSv1.3".into(),
        other => format!("0x{other:04x}"),
    }
}

struct Handshake {
    protocol: rustls::ProtocolVersion,
    suite: rustls::CipherSuite,
    certs: Vec<CertificateDer<'static>>,
}

enum Failure {
    /// The server answered with, or asked for, a protocol below TLS 1.2.
    OldProtocolOnly,
    Other(String),
}

fn handshake(
    mut sock: TcpStream,
    name: ServerName<'static>,
    provider: &Arc<CryptoProvider>,
) -> Result<Handshake, Failure> {
    let other = |e: rustls::Error| Failure::Other(e.to_string());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(other)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider.clone())))
        .with_no_client_auth();
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).map_err(other)?;
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut sock) {
            let tls = e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>());
            return Err(match tls {
                Some(rustls::Error::PeerIncompatible(
                    rustls::PeerIncompatible::ServerDoesNotSupportTls12Or13,
                ))
                | Some(rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion)) => {
                    Failure::OldProtocolOnly
                }
                Some(t) => Failure::Other(t.to_string()),
                None => Failure::Other(io_error(&e)),
            });
        }
    }
    let hs = Handshake {
        protocol: conn.protocol_version().expect("set after the handshake"),
        suite: conn
            .negotiated_cipher_suite()
            .expect("set after the handshake")
            .suite(),
        certs: conn
            .peer_certificates()
            .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
            .unwrap_or_default(),
    };
    conn.send_close_notify();
    let _ = conn.write_tls(&mut sock);
    Ok(hs)
}

/// Accepts every certificate (it is judged after the handshake) but checks the handshake signatures, so
/// the server did prove it holds the certificate's key.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn timestamp(d: Duration) -> Timestamp {
    Timestamp::from_second(d.as_secs().min(i64::MAX as u64) as i64).unwrap_or(Timestamp::MAX)
}

fn judge_certificate(
    rep: &mut TlsEndpointReport,
    found: &mut Vec<(Kind, String)>,
    certs: &[CertificateDer<'static>],
    name: &ServerName<'static>,
    judge: &Judge,
    provider: &CryptoProvider,
) {
    let now = judge.now;
    let parsed = match x509_cert::Certificate::from_der(certs[0].as_ref()) {
        Ok(c) => c,
        Err(e) => {
            rep.error = Some(format!("the certificate cannot be read: {e}"));
            return;
        }
    };
    let validity = &parsed.tbs_certificate.validity;
    let not_before = timestamp(validity.not_before.to_unix_duration());
    let not_after = timestamp(validity.not_after.to_unix_duration());
    rep.not_before = Some(not_before.to_string());
    rep.not_after = Some(not_after.to_string());
    let left = not_after.as_second().saturating_sub(now.as_second());
    let days_left = left.div_euclid(86_400);
    rep.days_left = Some(days_left);
    if left < 0 {
        found.push((
            Kind::TlsCertExpired {
                not_after: not_after.to_string(),
            },
            format!("certificate expired at {not_after}"),
        ));
    } else if now < not_before {
        found.push((
            Kind::TlsCertNotYetValid {
                not_before: not_before.to_string(),
            },
            format!("certificate is not valid before {not_before}"),
        ));
    } else if (left as u64) < judge.warning.as_secs() {
        let warning = format_duration(judge.warning);
        found.push((
            Kind::TlsCertExpiring {
                not_after: not_after.to_string(),
                days_left,
                warning: warning.clone(),
            },
            format!("certificate expires at {not_after}, in {days_left} days (warning: {warning})"),
        ));
    }

    let ee = match webpki::EndEntityCert::try_from(&certs[0]) {
        Ok(ee) => ee,
        Err(e) => {
            rep.error = Some(format!("the certificate cannot be read: {e}"));
            return;
        }
    };
    let host = name.to_str();
    let name_ok = ee.verify_is_valid_for_subject_name(name).is_ok();
    rep.name_valid = Some(name_ok);
    if !name_ok {
        found.push((
            Kind::TlsNameMismatch {
                name: host.to_string(),
            },
            format!("certificate is not valid for the name {host}"),
        ));
    }
    // Expiry is judged above: the chain is judged at a time inside the certificate's validity.
    let at = now.clamp(not_before, not_after).as_second().max(0) as u64;
    let chain = ee.verify_for_usage(
        provider.signature_verification_algorithms.all,
        &judge.trust.anchors,
        &certs[1..],
        UnixTime::since_unix_epoch(Duration::from_secs(at)),
        webpki::KeyUsage::server_auth(),
        None,
        None,
    );
    rep.chain_valid = Some(chain.is_ok());
    if let Err(e) = chain {
        let error = match e {
            webpki::Error::UnknownIssuer => "issued by a CA that is not trusted".to_string(),
            webpki::Error::CaUsedAsEndEntity => "a CA certificate used as the server's".to_string(),
            webpki::Error::CertExpired { .. } => {
                "a certificate in the chain has expired".to_string()
            }
            other => format!("{other:?}"),
        };
        found.push((
            Kind::TlsUntrusted {
                trusted_by: judge.trust.name.clone(),
                error: error.clone(),
            },
            format!(
                "certificate does not chain to {}: {error}",
                judge.trust.name
            ),
        ));
    }
}

/// What a server told a client limited to TLS 1.1.
struct Legacy {
    /// The ServerHello's version (0x0300 to 0x0302).
    version: u16,
    /// The certificate chain of its first flight, if it sent one.
    certs: Vec<CertificateDer<'static>>,
}

/// Cipher suites of the TLS 1.0/1.1 era, so a server of that age finds one in common.
const LEGACY_SUITES: [u16; 10] = [
    0xc00a, // ECDHE_ECDSA_WITH_AES_256_CBC_SHA
    0xc009, // ECDHE_ECDSA_WITH_AES_128_CBC_SHA
    0xc014, // ECDHE_RSA_WITH_AES_256_CBC_SHA
    0xc013, // ECDHE_RSA_WITH_AES_128_CBC_SHA
    0x0039, // DHE_RSA_WITH_AES_256_CBC_SHA
    0x0033, // DHE_RSA_WITH_AES_128_CBC_SHA
    0x0035, // RSA_WITH_AES_256_CBC_SHA
    0x002f, // RSA_WITH_AES_128_CBC_SHA
    0x000a, // RSA_WITH_3DES_EDE_CBC_SHA
    0x0005, // RSA_WITH_RC4_128_SHA
];

/// A ClientHello whose highest version is TLS 1.1.
fn legacy_client_hello(sni: Option<&str>, random: [u8; 32]) -> Vec<u8> {
    fn u16be(v: &mut Vec<u8>, n: usize) {
        v.extend_from_slice(&(n as u16).to_be_bytes());
    }
    let mut ext = Vec::new();
    if let Some(host) = sni {
        // server_name: list of one host_name.
        ext.extend_from_slice(&[0x00, 0x00]);
        u16be(&mut ext, host.len() + 5);
        u16be(&mut ext, host.len() + 3);
        ext.push(0);
        u16be(&mut ext, host.len());
        ext.extend_from_slice(host.as_bytes());
    }
    // supported_groups: x25519, secp256r1, secp384r1; ec_point_formats: uncompressed;
    // renegotiation_info: empty.
    ext.extend_from_slice(&[
        0x00, 0x0a, 0x00, 0x08, 0x00, 0x06, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18,
    ]);
    ext.extend_from_slice(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
    ext.extend_from_slice(&[0xff, 0x01, 0x00, 0x01, 0x00]);

    let mut body = vec![0x03, 0x02];
    body.extend_from_slice(&random);
    body.push(0); // no session id
    u16be(&mut body, LEGACY_SUITES.len() * 2);
    for s in LEGACY_SUITES {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[0x01, 0x00]); // compression: null only
    u16be(&mut body, ext.len());
    body.extend_from_slice(&ext);

    let mut hs = vec![0x01];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01];
    u16be(&mut record, hs.len());
    record.extend_from_slice(&hs);
    record
}

/// Sends [`legacy_client_hello`] on a new connection; `Some` when the server answers with a version
/// below TLS 1.2, `None` when it refuses (an alert, or it closes the connection).
fn legacy_probe(
    addr: SocketAddr,
    sni: Option<&str>,
    provider: &CryptoProvider,
) -> io::Result<Option<Legacy>> {
    let mut random = [0u8; 32];
    provider
        .secure_random
        .fill(&mut random)
        .map_err(|_| io::Error::other("no random bytes"))?;
    let mut sock = TcpStream::connect_timeout(&addr, TIMEOUT)?;
    sock.set_read_timeout(Some(TIMEOUT))?;
    sock.set_write_timeout(Some(TIMEOUT))?;
    sock.write_all(&legacy_client_hello(sni, random))?;
    let mut messages = Vec::new(); // handshake messages, records joined
    let mut version = None;
    let mut read = 0usize;
    loop {
        let mut header = [0u8; 5];
        match sock.read_exact(&mut header) {
            Ok(()) => {}
            Err(e) if version.is_none() => {
                return match e.kind() {
                    io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => Ok(None),
                    _ => Err(e),
                };
            }
            Err(_) => break,
        }
        let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        read += 5 + len;
        if len > (1 << 14) + 2048 || read > MAX_FLIGHT {
            break;
        }
        let mut body = vec![0u8; len];
        if sock.read_exact(&mut body).is_err() {
            break;
        }
        match header[0] {
            0x15 if version.is_none() => return Ok(None), // an alert: refused
            0x16 => messages.extend_from_slice(&body),
            _ => break,
        }
        // Walk the complete handshake messages: ServerHello (2), Certificate (11), ServerHelloDone (14).
        let mut at = 0;
        while let Some(h) = messages.get(at..at + 4) {
            let mlen = usize::from(h[1]) << 16 | usize::from(h[2]) << 8 | usize::from(h[3]);
            let Some(m) = messages.get(at + 4..at + 4 + mlen) else {
                break;
            };
            match h[0] {
                2 if m.len() >= 2 => {
                    let v = u16::from_be_bytes([m[0], m[1]]);
                    if v >= 0x0303 {
                        return Ok(None); // ignored our limit: not an old-protocol answer
                    }
                    version = Some(v);
                }
                11 => {
                    return Ok(version.map(|version| Legacy {
                        version,
                        certs: certificate_list(m),
                    }))
                }
                14 => {
                    return Ok(version.map(|version| Legacy {
                        version,
                        certs: Vec::new(),
                    }))
                }
                _ => {}
            }
            at += 4 + mlen;
        }
        if version.is_none() && at > 0 {
            break; // the first message was not a ServerHello
        }
    }
    Ok(version.map(|version| Legacy {
        version,
        certs: Vec::new(),
    }))
}

/// The certificates of a TLS 1.0-1.2 Certificate message.
fn certificate_list(m: &[u8]) -> Vec<CertificateDer<'static>> {
    let len3 = |b: &[u8]| usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]);
    let mut certs = Vec::new();
    let Some(total) = m.get(..3).map(len3) else {
        return certs;
    };
    let list = &m[3..m.len().min(3 + total)];
    let mut at = 0;
    while let Some(l) = list.get(at..at + 3).map(len3) {
        let Some(der) = list.get(at + 3..at + 3 + l) else {
            break;
        };
        certs.push(CertificateDer::from(der.to_vec()));
        at += 3 + l;
    }
    certs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legacy_client_hello_is_well_formed() {
        let hello = legacy_client_hello(Some("localhost"), [7; 32]);
        assert_eq!(&hello[..3], &[0x16, 0x03, 0x01]);
        let record_len = usize::from(u16::from_be_bytes([hello[3], hello[4]]));
        assert_eq!(record_len, hello.len() - 5);
        assert_eq!(hello[5], 0x01, "ClientHello");
        let hs_len =
            usize::from(hello[6]) << 16 | usize::from(hello[7]) << 8 | usize::from(hello[8]);
        assert_eq!(hs_len, hello.len() - 9);
        assert_eq!(&hello[9..11], &[0x03, 0x02], "offers at most TLS 1.1");
        assert!(hello.windows(9).any(|w| w == b"localhost"));
        // Without SNI (an IP address) the server_name extension is left out.
        let no_sni = legacy_client_hello(None, [7; 32]);
        assert_eq!(hello.len() - no_sni.len(), 9 + 9);
    }

    #[test]
    fn certificate_lists_are_split() {
        let m = [0, 0, 10, 0, 0, 2, 0xaa, 0xbb, 0, 0, 2, 0xcc, 0xdd];
        let certs = certificate_list(&m);
        assert_eq!(certs.len(), 2);
        assert_eq!(certs[1].as_ref(), &[0xcc, 0xdd]);
        assert!(certificate_list(&[0, 0]).is_empty());
        assert_eq!(
            certificate_list(&[0, 0, 9, 0, 0, 9, 1]).len(),
            0,
            "cut short"
        );
    }
}
