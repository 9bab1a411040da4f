//! Secrets at rest: collector credentials in the database and a new ingestion key in the session table are sealed
//! with ChaCha20-Poly1305 under one key from the environment (`STACKBILL_SECRET_KEY`, 32 bytes in base64), so a copy
//! of the database (a backup, a replica, a read-only SQL account) holds no usable credential.
//!
//! A sealed value reads `v1:` followed by the base64 of a random 12-byte nonce and the ciphertext with its tag.
//! Values written before sealing existed have no prefix; [`SecretKey::open`] reads them as they are and
//! `collector::db::seal_stored` seals them at start-up.
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

const PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

/// The key secrets are sealed with. Its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct SecretKey(Key);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

/// Why a stored secret cannot be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a stored secret cannot be decrypted with this STACKBILL_SECRET_KEY (was the key changed?); enter the secret again"
)]
pub struct CannotOpen;

impl SecretKey {
    /// A new random key.
    pub fn generate() -> Self {
        Self(ChaCha20Poly1305::generate_key(&mut OsRng))
    }

    /// Reads the base64 form (as in `STACKBILL_SECRET_KEY`); the error says what is wrong without echoing it.
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| "is not base64".to_string())?;
        if bytes.len() != 32 {
            return Err(format!("is {} bytes long; it must be 32 (openssl rand -base64 32)", bytes.len()));
        }
        Ok(Self(*Key::from_slice(&bytes)))
    }

    /// The base64 form, to write into a key file.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Seals `plain` for storing; the same text sealed twice differs (random nonce).
    pub fn seal(&self, plain: &str) -> String {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = ChaCha20Poly1305::new(&self.0)
            .encrypt(&nonce, plain.as_bytes())
            .expect("ChaCha20-Poly1305 encrypts any message shorter than 256 GiB");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("{PREFIX}{}", STANDARD.encode(out))
    }

    /// Opens a value written by [`seal`](Self::seal); a value without the prefix was stored before sealing and is
    /// returned as it is.
    pub fn open(&self, stored: &str) -> Result<String, CannotOpen> {
        let Some(sealed) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_string());
        };
        let bytes = STANDARD.decode(sealed).map_err(|_| CannotOpen)?;
        if bytes.len() < NONCE_LEN {
            return Err(CannotOpen);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plain =
            ChaCha20Poly1305::new(&self.0).decrypt(Nonce::from_slice(nonce), ciphertext).map_err(|_| CannotOpen)?;
        String::from_utf8(plain).map_err(|_| CannotOpen)
    }

    /// Whether `stored` is sealed (rather than a value from before sealing).
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_with_its_key_only_and_never_shows_the_plain_text() {
        let key = SecretKey::generate();
        let sealed = key.seal("client-secret-123");
        assert!(!sealed.contains("client-secret-123"));
        assert_ne!(sealed, key.seal("client-secret-123"), "a fresh nonce each time");
        assert_eq!(key.open(&sealed).unwrap(), "client-secret-123");
        assert_eq!(SecretKey::generate().open(&sealed), Err(CannotOpen));
        assert_eq!(key.open("v1:AAAA"), Err(CannotOpen));
    }

    #[test]
    fn values_from_before_sealing_are_read_as_they_are() {
        assert_eq!(SecretKey::generate().open("plain-token").unwrap(), "plain-token");
    }

    #[test]
    fn a_key_must_be_32_bytes_of_base64() {
        let key = SecretKey::generate();
        assert!(SecretKey::from_base64(&key.to_base64()).is_ok());
        assert!(SecretKey::from_base64("not base64!").unwrap_err().contains("base64"));
        assert!(SecretKey::from_base64("AAAA").unwrap_err().contains("3 bytes"));
    }
}
