//! The part of crc-fast's interface that the AWS SDK's checksums call: [`CrcAlgorithm`]'s three
//! CRCs of S3's flexible checksums, [`Digest`] and [`checksum`].
//!
//! Why not crc-fast itself: it picks a CRC's lookup table at run time from an enum of 49 CRCs,
//! so every one of their tables was linked into every function that holds an S3 client
//! (0.66 MB of tables, 0.71 MB with their code: the largest crate of the portal and of shop
//! sync, docs/PERFORMANCE.md "Size"). Here each CRC is its own type with its own table, and
//! the linker keeps the ones a binary calls.
//!
//! - CRC-32/ISO-HDLC (S3's `CRC32`, the SDK's default request checksum): crc32fast, which uses
//!   the CPU's CRC instructions where it has them; flate2 already links it.
//! - CRC-32/ISCSI (`CRC32C`) and CRC-64/NVME (`CRC64NVME`, which S3 computes for objects stored
//!   without a checksum and returns on GetObject): the `crc` crate's slice-by-16 tables
//!   (16 and 32 KiB), parameters from the CRC catalogue (crc-catalog).

use std::fmt;

/// The CRCs of this stand-in: those aws-smithy-checksums names. Adding a variant that the
/// SDK starts to use is a compile error in the SDK, not a wrong checksum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CrcAlgorithm {
    Crc32IsoHdlc,
    Crc32Iscsi,
    Crc64Nvme,
}

static CRC32_ISCSI: crc::Crc<u32, crc::Table<16>> = crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISCSI);
static CRC64_NVME: crc::Crc<u64, crc::Table<16>> = crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_NVME);

/// A CRC over data given in pieces.
#[derive(Clone)]
pub struct Digest {
    state: State,
}

#[derive(Clone)]
enum State {
    Crc32IsoHdlc(crc32fast::Hasher),
    Crc32Iscsi(crc::Digest<'static, u32, crc::Table<16>>),
    Crc64Nvme(crc::Digest<'static, u64, crc::Table<16>>),
}

impl Digest {
    pub fn new(algorithm: CrcAlgorithm) -> Self {
        let state = match algorithm {
            CrcAlgorithm::Crc32IsoHdlc => State::Crc32IsoHdlc(crc32fast::Hasher::new()),
            CrcAlgorithm::Crc32Iscsi => State::Crc32Iscsi(CRC32_ISCSI.digest()),
            CrcAlgorithm::Crc64Nvme => State::Crc64Nvme(CRC64_NVME.digest()),
        };
        Self { state }
    }

    pub fn update(&mut self, data: &[u8]) {
        match &mut self.state {
            State::Crc32IsoHdlc(hasher) => hasher.update(data),
            State::Crc32Iscsi(digest) => digest.update(data),
            State::Crc64Nvme(digest) => digest.update(data),
        }
    }

    /// The CRC of everything given so far, widened to 64 bits for the 32-bit CRCs.
    pub fn finalize(&self) -> u64 {
        match &self.state {
            State::Crc32IsoHdlc(hasher) => hasher.clone().finalize().into(),
            State::Crc32Iscsi(digest) => digest.clone().finalize().into(),
            State::Crc64Nvme(digest) => digest.clone().finalize(),
        }
    }

    fn algorithm(&self) -> CrcAlgorithm {
        match self.state {
            State::Crc32IsoHdlc(_) => CrcAlgorithm::Crc32IsoHdlc,
            State::Crc32Iscsi(_) => CrcAlgorithm::Crc32Iscsi,
            State::Crc64Nvme(_) => CrcAlgorithm::Crc64Nvme,
        }
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Digest").field("algorithm", &self.algorithm()).field("crc", &self.finalize()).finish()
    }
}

/// The CRC of `data` in one call.
pub fn checksum(algorithm: CrcAlgorithm, data: &[u8]) -> u64 {
    let mut digest = Digest::new(algorithm);
    digest.update(data);
    digest.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [CrcAlgorithm; 3] = [CrcAlgorithm::Crc32IsoHdlc, CrcAlgorithm::Crc32Iscsi, CrcAlgorithm::Crc64Nvme];

    /// CRC-32, CRC-32C and CRC-64/NVME of `data`, in the order of [`ALL`].
    fn crcs(data: &[u8]) -> [u64; 3] {
        ALL.map(|algorithm| checksum(algorithm, data))
    }

    /// The CRC catalogue's check values: each CRC of the nine ASCII bytes "123456789"
    /// (reveng.sourceforge.net/crc-catalogue; crc-fast's and the SDK's tests use the same).
    #[test]
    fn each_crc_gives_the_catalogue_check_value() {
        assert_eq!(crcs(b"123456789"), [0xcbf4_3926, 0xe306_9283, 0xae8b_1486_0a79_9888]);
    }

    /// The values aws-smithy-checksums 0.65's own tests expect for "test data", the checksums
    /// S3 carries in its `x-amz-checksum-crc32`, `-crc32c` and `-crc64nvme` headers.
    #[test]
    fn each_crc_gives_the_value_the_sdk_expects() {
        assert_eq!(crcs(b"test data"), [0xd308_aeb2, 0x3379_b4ca, 0xaeca_f3af_9c98_a855]);
    }

    /// Pieces of any size, across the tables' 16-byte blocks, give the CRC of the whole, and a
    /// finalised digest can take more data.
    #[test]
    fn data_in_pieces_gives_the_crc_of_the_whole() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for algorithm in ALL {
            let whole = checksum(algorithm, &data);
            for piece in [1, 7, 15, 16, 17, 333] {
                let mut digest = Digest::new(algorithm);
                for chunk in data.chunks(piece) {
                    digest.update(chunk);
                }
                assert_eq!(digest.finalize(), whole, "{algorithm:?} in pieces of {piece}");
            }
            let mut digest = Digest::new(algorithm);
            digest.update(&data[..500]);
            let _ = digest.finalize();
            digest.update(&data[500..]);
            assert_eq!(digest.finalize(), whole, "{algorithm:?} finalised halfway");
            assert_eq!(digest.algorithm(), algorithm);
        }
    }
}
