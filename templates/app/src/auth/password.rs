//! Password hashing with Argon2id and the password validators.
//!
//! Hashing is CPU-bound, so it runs on the blocking thread pool, and a semaphore admits about
//! one hash per core at a time: a burst of logins queues instead of starving the runtime.

use std::sync::Arc;

use anyhow::Context;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, Params, PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::settings::{AUTH, MAX_PASSWORD_LENGTH};

/// Hashes and verifies passwords off the async runtime.
#[derive(Clone, Debug)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when the user does not exist so that
    /// the response time does not reveal which accounts exist.
    dummy_hash: Arc<str>,
}

/// The outcome of [`Hasher::verify`].
#[derive(Debug, PartialEq, Eq)]
pub enum Verified {
    Invalid,
    /// The password matches. `rehashed` holds a new hash when the stored one used outdated
    /// parameters.
    Valid {
        rehashed: Option<String>,
    },
}

impl Hasher {
    pub async fn new() -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let permits = Arc::new(Semaphore::new(cores));
        let random: [u8; 32] = rand::random();
        let dummy = tokio::task::spawn_blocking(move || hash_now(&hex(&random))).await??;
        Ok(Self {
            permits,
            dummy_hash: dummy.into(),
        })
    }

    pub async fn hash(&self, password: &str) -> anyhow::Result<String> {
        let _permit = self.permits.acquire().await?;
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_now(&password)).await?
    }

    /// Verifies a password against a stored hash, or against the dummy hash when `hash` is
    /// `None`, which always fails but takes as long.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> anyhow::Result<Verified> {
        let _permit = self.permits.acquire().await?;
        let password = password.to_owned();
        let known = hash.is_some();
        let hash = hash.map_or_else(|| self.dummy_hash.to_string(), str::to_owned);

        tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&hash).context("stored password hash is malformed")?;
            if argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_err()
                || !known
            {
                return Ok(Verified::Invalid);
            }
            let rehashed = if is_outdated(&parsed) {
                Some(hash_now(&password)?)
            } else {
                None
            };
            Ok(Verified::Valid { rehashed })
        })
        .await?
    }
}

/// Argon2id with the argon2 crate's default cost (19 MiB, 2 passes, 1 lane).
fn argon2() -> Argon2<'static> {
    Argon2::default()
}

fn hash_now(password: &str) -> anyhow::Result<String> {
    let hash = argon2()
        .hash_password(password.as_bytes())
        .map_err(|err| anyhow::anyhow!("failed to hash a password: {err}"))?;
    Ok(hash.to_string())
}

/// Returns whether a stored hash used another algorithm or other parameters than the current
/// ones.
fn is_outdated(hash: &PasswordHash) -> bool {
    let current = Params::default();
    let Ok(stored) = Params::try_from(hash) else {
        return true;
    };
    hash.algorithm != argon2::ARGON2ID_IDENT
        || stored.m_cost() != current.m_cost()
        || stored.t_cost() != current.t_cost()
        || stored.p_cost() != current.p_cost()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Checks a new password against the rules; returns every problem found.
///
/// `username` and `email` are the account's, for the similarity check.
pub fn validate(password: &str, username: &str, email: &str) -> Vec<String> {
    let mut errors = Vec::new();
    let length = password.chars().count();

    if length < AUTH.min_password_length {
        errors.push(format!(
            "This password is too short. It must contain at least {} characters.",
            AUTH.min_password_length
        ));
    }
    if length > MAX_PASSWORD_LENGTH {
        errors.push(format!(
            "This password is too long. It must contain at most {MAX_PASSWORD_LENGTH} characters."
        ));
        return errors;
    }
    if !password.is_empty() && password.chars().all(|c| c.is_ascii_digit()) {
        errors.push("This password is entirely numeric.".into());
    }
    if is_too_similar(password, username) || is_too_similar(password, email) {
        errors.push("The password is too similar to your username or email address.".into());
    }
    if is_too_common(password, username, email) {
        errors.push("This password is too common or too easy to guess.".into());
    }
    errors
}

/// The password contains the attribute, or the attribute (or an e-mail's local part)
/// contains the password, or they are at least 70 % alike by normalized Levenshtein distance.
fn is_too_similar(password: &str, attribute: &str) -> bool {
    let password = password.to_lowercase();
    let attribute = attribute.to_lowercase();
    let local_part = attribute.split('@').next().unwrap_or_default().to_owned();

    [attribute, local_part].iter().any(|value| {
        value.chars().count() >= 3
            && (password.contains(value.as_str())
                || value.contains(password.as_str())
                || strsim::normalized_levenshtein(&password, value) >= 0.7)
    })
}

/// zxcvbn estimates fewer than 10^8 guesses: a dictionary word, a keyboard pattern, a
/// common password or a variation of the user's own name.
fn is_too_common(password: &str, username: &str, email: &str) -> bool {
    // zxcvbn's matching slows down on very long input; a long prefix decides the score.
    let checked: String = password.chars().take(100).collect();
    let score = zxcvbn::zxcvbn(&checked, &[username, email]).score();
    u8::from(score) < 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_accepts_a_strong_password() {
        assert!(validate(
            "correct horse battery staple 42",
            "alice",
            "alice@example.com"
        )
        .is_empty());
    }

    #[test]
    fn validate_rejects_short_numeric_common_and_similar() {
        assert!(!validate("short", "alice", "a@example.com").is_empty());
        let numeric = validate("83749201836", "alice", "a@example.com");
        assert!(numeric.iter().any(|e| e.contains("numeric")), "{numeric:?}");
        let common = validate("password123", "alice", "a@example.com");
        assert!(common.iter().any(|e| e.contains("common")), "{common:?}");
        let similar = validate("alice-wonderland", "alice-wonderland", "a@example.com");
        assert!(similar.iter().any(|e| e.contains("similar")), "{similar:?}");
    }

    #[test]
    fn validate_rejects_overlong_passwords() {
        let long = "x".repeat(MAX_PASSWORD_LENGTH + 1);
        assert!(validate(&long, "alice", "a@example.com")[0].contains("too long"));
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let hasher = Hasher::new().await.unwrap();
        let hash = hasher.hash("tr0ub4dor&3-and-more").await.unwrap();
        let ok = hasher
            .verify("tr0ub4dor&3-and-more", Some(&hash))
            .await
            .unwrap();
        assert_eq!(ok, Verified::Valid { rehashed: None });
        let bad = hasher.verify("wrong", Some(&hash)).await.unwrap();
        assert_eq!(bad, Verified::Invalid);
        let unknown = hasher.verify("tr0ub4dor&3-and-more", None).await.unwrap();
        assert_eq!(unknown, Verified::Invalid);
    }

    #[tokio::test]
    async fn outdated_hash_is_upgraded() {
        let weak = Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        );
        let hash = weak
            .hash_password(b"tr0ub4dor&3-and-more")
            .unwrap()
            .to_string();
        let hasher = Hasher::new().await.unwrap();
        match hasher
            .verify("tr0ub4dor&3-and-more", Some(&hash))
            .await
            .unwrap()
        {
            Verified::Valid {
                rehashed: Some(new_hash),
            } => assert_ne!(new_hash, hash),
            other => panic!("expected an upgraded hash, got {other:?}"),
        }
    }
}
