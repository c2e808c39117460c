//! JWT verification natively, as the gateway does it for a bearer token: the core's `parse`
//! (structural refusals), then `JwtVerifier::verify` — the issuer's key from a warm JWK Set
//! fetched over HTTP from a local server, the decoded key, and jwt-simple's signature check —
//! then the core's `check_claims`. Targets (issue 20): RS256 ≤ 40 µs, ES256 ≤ 100 µs.
//!
//! "First sight" alternates two tokens through a verifier that remembers one, so every call
//! checks a signature; "warm token" repeats one token, which the verifier remembers by hash.
//! Peer in the same run: ring's signature check alone on the same token and key (no parsing,
//! no key lookup, no claims): the floor under what the gateway does.

mod common;
#[allow(dead_code, clippy::unwrap_used)]
#[path = "../tests/support/jwt.rs"]
mod signer;

use std::hint::black_box;
use std::time::Instant;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::ready;
use criterion::{criterion_group, Criterion};
use gatehouse_core::jwt::{self, Algorithm, JwtSettings};
use gatehouse_core::ports::TokenVerifier;
use gatehouse_native::adapters::clock::now_millis;
use gatehouse_native::adapters::tokens::JwtVerifier;
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256};
use serde_json::{json, Value};
use signer::{now_secs, ProviderKey, RSA_1};

const ISSUER: &str = "https://idp.bench/";

struct Fixture {
    settings: JwtSettings,
    verifier: JwtVerifier,
    rs: [String; 2],
    es: [String; 2],
    rs_key: ProviderKey,
    es_key: ProviderKey,
    _jwks: wiremock::MockServer,
    _runtime: tokio::runtime::Runtime,
}

fn claims(n: u32) -> Value {
    json!({"iss": ISSUER, "aud": "pets", "sub": "user", "exp": now_secs() + 3_600, "scope": "pets:read",
           "client_id": "bench", "n": n})
}

fn fixture() -> Fixture {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let rsa = ProviderKey::rsa(RSA_1, "r1", "RS256");
    let ec = ProviderKey::ec("e1", "ES256");
    let keys = json!({"keys": [rsa.jwk(), ec.jwk()]});
    let jwks = runtime.block_on(async {
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::path("/jwks"))
            .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(keys))
            .mount(&server)
            .await;
        server
    });
    let settings = JwtSettings {
        issuer: Some(ISSUER.into()),
        audiences: vec!["pets".into()],
        jwks_url: Some(format!("{}/jwks", jwks.uri())),
        discovery_url: None,
        algorithms: vec![Algorithm::RS256, Algorithm::ES256],
        ..JwtSettings::discovered("")
    };
    let sign_rs = |n| rsa.sign(&claims(n));
    let sign_es = |n| ec.sign(&claims(n));
    let f = Fixture {
        settings,
        verifier: JwtVerifier::default().remembering(1),
        rs: [sign_rs(1), sign_rs(2)],
        es: [sign_es(1), sign_es(2)],
        rs_key: rsa,
        es_key: ec,
        _jwks: jwks,
        _runtime: runtime,
    };
    // Warm the key set: the one fetch happens here, on the runtime.
    f._runtime.block_on(async {
        for token in [&f.rs[0], &f.es[0]] {
            let parsed = jwt::parse(token, &f.settings.algorithms).expect("parses");
            f.verifier.verify(&f.settings, token, &parsed).await.expect("verifies");
        }
    });
    f
}

/// The gateway's whole token check, as `pipeline::bearer::check` runs it.
fn gatehouse_check(f: &Fixture, token: &str) -> bool {
    let Ok(parsed) = jwt::parse(token, &f.settings.algorithms) else { return false };
    let Ok(issuer) = ready(f.verifier.verify(&f.settings, token, &parsed)) else { return false };
    jwt::check_claims(&f.settings, &issuer, &parsed.claims, now_millis() / 1_000, &[]).is_ok()
}

fn bench_jwt(c: &mut Criterion) {
    let f = fixture();
    assert!(gatehouse_check(&f, &f.rs[0]) && gatehouse_check(&f, &f.es[1]));
    let mut group = c.benchmark_group("jwt_verify");
    let mut i = 0usize;
    group.bench_function("rs256_first_sight", |b| {
        b.iter(|| {
            i += 1;
            gatehouse_check(&f, black_box(&f.rs[i % 2]))
        })
    });
    group.bench_function("es256_first_sight", |b| {
        b.iter(|| {
            i += 1;
            gatehouse_check(&f, black_box(&f.es[i % 2]))
        })
    });
    group.bench_function("rs256_warm_token", |b| b.iter(|| gatehouse_check(&f, black_box(&f.rs[0]))));
    let peer = Peer::of(&f);
    group.bench_function("peer_ring_rs256_signature_only", |b| b.iter(|| black_box(&peer).rs256()));
    group.finish();
}

/// The floor: ring's signature check alone, with the key, message and signature decoded
/// beforehand.
struct Peer {
    n: Vec<u8>,
    e: Vec<u8>,
    point: Vec<u8>,
    rs: (Vec<u8>, Vec<u8>),
    es: (Vec<u8>, Vec<u8>),
}

impl Peer {
    fn of(f: &Fixture) -> Peer {
        let b = |jwk: &Value, name: &str| {
            URL_SAFE_NO_PAD.decode(jwk[name].as_str().unwrap_or_default()).unwrap_or_default()
        };
        let split = |token: &str| {
            let (signed, signature) = token.rsplit_once('.').unwrap_or_default();
            (signed.as_bytes().to_vec(), URL_SAFE_NO_PAD.decode(signature).unwrap_or_default())
        };
        let (rs, es) = (f.rs_key.jwk(), f.es_key.jwk());
        Peer {
            n: b(&rs, "n"),
            e: b(&rs, "e"),
            point: [&[4u8][..], &b(&es, "x"), &b(&es, "y")].concat(),
            rs: split(&f.rs[0]),
            es: split(&f.es[0]),
        }
    }

    fn rs256(&self) -> bool {
        let key = ring::signature::RsaPublicKeyComponents { n: &self.n, e: &self.e };
        key.verify(&RSA_PKCS1_2048_8192_SHA256, &self.rs.0, &self.rs.1).is_ok()
    }

    fn es256(&self) -> bool {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.point).verify(&self.es.0, &self.es.1).is_ok()
    }
}

/// Median microseconds per call over a few timed batches.
fn median_us(mut call: impl FnMut(usize) -> bool) -> f64 {
    const BATCH: usize = 2_000;
    let mut samples: Vec<f64> = (0..7)
        .map(|_| {
            let started = Instant::now();
            for i in 0..BATCH {
                assert!(black_box(call(i)));
            }
            started.elapsed().as_secs_f64() * 1e6 / BATCH as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn print_summary() {
    let f = fixture();
    let rs = median_us(|i| gatehouse_check(&f, &f.rs[i % 2]));
    let es = median_us(|i| gatehouse_check(&f, &f.es[i % 2]));
    let warm = median_us(|_| gatehouse_check(&f, &f.rs[0]));
    let peer = Peer::of(&f);
    let peer_rs = median_us(|_| peer.rs256());
    let peer_es = median_us(|_| peer.es256());
    let verdict = |value: f64, goal: f64| if value <= goal { "MET" } else { "NOT MET" };
    println!("\njwt_verify summary (median of 7 x 2,000 calls; warm JWK Set from a local server):");
    println!(
        "  RS256 first sight (parse + key + signature + claims): {rs:7.1} µs  goal <= 40 µs: {}",
        verdict(rs, 40.0)
    );
    println!(
        "  ES256 first sight:                                   {es:7.1} µs  goal <= 100 µs: {}",
        verdict(es, 100.0)
    );
    println!("  RS256 warm token (remembered by hash):               {warm:7.1} µs");
    println!("  peer: ring signature alone RS256 / ES256:            {peer_rs:7.1} / {peer_es:.1} µs");
    println!("  gatehouse / peer: RS256 {:.2}x, ES256 {:.2}x", rs / peer_rs, es / peer_es);
}

criterion_group!(benches, bench_jwt);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // Only under `cargo bench` (not `cargo test --benches`, which passes no `--bench`).
    if std::env::args().any(|a| a == "--bench") {
        print_summary();
    }
}
