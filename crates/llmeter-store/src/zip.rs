//! `.zip` archives of a result folder: writing (DEFLATE or stored entries, UTF-8 names) and
//! reading what common tools write (stored/DEFLATE, data descriptors; no ZIP64, no encryption).
//! Reading never panics on malformed input: every offset is checked and errors say what is wrong.

use miniz_oxide::deflate::compress_to_vec;
use miniz_oxide::inflate::decompress_to_vec_with_limit;

const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const END_SIG: u32 = 0x0605_4b50;
const FLAG_UTF8: u16 = 0x0800;
const FLAG_ENCRYPTED: u16 = 0x0001;
const METHOD_STORED: u16 = 0;
const METHOD_DEFLATE: u16 = 8;
/// Refuse archives that would inflate beyond this (a zip bomb would otherwise exhaust memory).
pub const MAX_TOTAL_UNCOMPRESSED: u64 = 2 << 30;

struct Entry {
    name: String,
    crc: u32,
    method: u16,
    compressed: u32,
    size: u32,
    offset: u32,
}

/// Builds an archive entry by entry; `finish` appends the central directory.
pub struct ZipWriter {
    out: Vec<u8>,
    entries: Vec<Entry>,
    dos_time: u16,
    dos_date: u16,
    level: u8,
}

impl ZipWriter {
    /// `unix_ms`: modification time stamped on every entry; `level`: 0 (store) to 10.
    pub fn new(unix_ms: f64, level: u8) -> ZipWriter {
        let (dos_time, dos_date) = dos_date_time(unix_ms);
        ZipWriter {
            out: Vec::new(),
            entries: Vec::new(),
            dos_time,
            dos_date,
            level: level.min(10),
        }
    }

    pub fn add(&mut self, name: &str, data: &[u8]) -> Result<(), String> {
        if name.is_empty() || name.len() > u16::MAX as usize {
            return Err(format!("invalid entry name {name:?}"));
        }
        if self.entries.len() >= u16::MAX as usize {
            return Err("too many files for a zip without ZIP64 (65535)".into());
        }
        if self.entries.iter().any(|e| e.name == name) {
            return Err(format!("duplicate entry {name}"));
        }
        let size = u32::try_from(data.len()).map_err(|_| format!("{name} is larger than 4 GB"))?;
        let crc = crc32fast::hash(data);
        let deflated = if self.level > 0 && !data.is_empty() {
            Some(compress_to_vec(data, self.level))
        } else {
            None
        };
        // Keep the stored bytes when DEFLATE does not help (already compressed data).
        let (method, body) = match &deflated {
            Some(d) if d.len() < data.len() => (METHOD_DEFLATE, d.as_slice()),
            _ => (METHOD_STORED, data),
        };
        let offset = u32::try_from(self.out.len()).map_err(|_| "archive larger than 4 GB")?;
        let compressed = body.len() as u32;
        let o = &mut self.out;
        put32(o, LOCAL_SIG);
        put16(o, 20);
        put16(o, FLAG_UTF8);
        put16(o, method);
        put16(o, self.dos_time);
        put16(o, self.dos_date);
        put32(o, crc);
        put32(o, compressed);
        put32(o, size);
        put16(o, name.len() as u16);
        put16(o, 0);
        o.extend_from_slice(name.as_bytes());
        o.extend_from_slice(body);
        self.entries.push(Entry {
            name: name.to_string(),
            crc,
            method,
            compressed,
            size,
            offset,
        });
        Ok(())
    }

    pub fn finish(mut self) -> Result<Vec<u8>, String> {
        let cd_start = u32::try_from(self.out.len()).map_err(|_| "archive larger than 4 GB")?;
        for e in &self.entries {
            let o = &mut self.out;
            put32(o, CENTRAL_SIG);
            put16(o, 20);
            put16(o, 20);
            put16(o, FLAG_UTF8);
            put16(o, e.method);
            put16(o, self.dos_time);
            put16(o, self.dos_date);
            put32(o, e.crc);
            put32(o, e.compressed);
            put32(o, e.size);
            put16(o, e.name.len() as u16);
            put16(o, 0);
            put16(o, 0);
            put16(o, 0);
            put16(o, 0);
            put32(o, 0o100644 << 16); // a regular file, rw-r--r--
            put32(o, e.offset);
            o.extend_from_slice(e.name.as_bytes());
        }
        let cd_size = u32::try_from(self.out.len() - cd_start as usize)
            .map_err(|_| "archive larger than 4 GB")?;
        let n = self.entries.len() as u16;
        let o = &mut self.out;
        put32(o, END_SIG);
        put16(o, 0);
        put16(o, 0);
        put16(o, n);
        put16(o, n);
        put32(o, cd_size);
        put32(o, cd_start);
        put16(o, 0);
        Ok(self.out)
    }
}

/// Writes `(name, bytes)` pairs into one archive.
pub fn write_zip(files: &[(String, Vec<u8>)], unix_ms: f64, level: u8) -> Result<Vec<u8>, String> {
    let mut w = ZipWriter::new(unix_ms, level);
    for (name, data) in files {
        w.add(name, data)?;
    }
    w.finish()
}

/// Reads every file of an archive (directory entries skipped), checking each CRC.
pub fn read_zip(data: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let end = find_end(data).ok_or("not a zip archive (no end-of-central-directory record)")?;
    let entries = rd16(data, end + 10).ok_or("truncated zip")? as usize;
    let cd_size = rd32(data, end + 12).ok_or("truncated zip")? as usize;
    let cd_offset = rd32(data, end + 16).ok_or("truncated zip")? as usize;
    if entries == 0xFFFF || cd_offset == 0xFFFF_FFFF {
        return Err("ZIP64 archives are not supported".into());
    }
    if cd_offset
        .checked_add(cd_size)
        .is_none_or(|e| e > data.len())
    {
        return Err("zip central directory lies outside the file".into());
    }
    let mut out = Vec::with_capacity(entries);
    let mut total: u64 = 0;
    let mut p = cd_offset;
    for _ in 0..entries {
        if rd32(data, p) != Some(CENTRAL_SIG) {
            return Err("corrupt zip central directory".into());
        }
        let bad = || "truncated zip central directory".to_string();
        let flags = rd16(data, p + 8).ok_or_else(bad)?;
        let method = rd16(data, p + 10).ok_or_else(bad)?;
        let crc = rd32(data, p + 16).ok_or_else(bad)?;
        let compressed = rd32(data, p + 20).ok_or_else(bad)? as usize;
        let size = rd32(data, p + 24).ok_or_else(bad)? as usize;
        let name_len = rd16(data, p + 28).ok_or_else(bad)? as usize;
        let extra_len = rd16(data, p + 30).ok_or_else(bad)? as usize;
        let comment_len = rd16(data, p + 32).ok_or_else(bad)? as usize;
        let local = rd32(data, p + 42).ok_or_else(bad)? as usize;
        let name_bytes = slice(data, p + 46, name_len).ok_or_else(bad)?;
        let name = String::from_utf8_lossy(name_bytes).into_owned();
        p += 46 + name_len + extra_len + comment_len;
        if name.ends_with('/') {
            continue;
        }
        if flags & FLAG_ENCRYPTED != 0 {
            return Err(format!("{name}: encrypted zip entries are not supported"));
        }
        if compressed == 0xFFFF_FFFF || size == 0xFFFF_FFFF {
            return Err(format!("{name}: ZIP64 entries are not supported"));
        }
        total += size as u64;
        if total > MAX_TOTAL_UNCOMPRESSED {
            return Err("zip expands beyond 2 GB".into());
        }
        if rd32(data, local) != Some(LOCAL_SIG) {
            return Err(format!("{name}: corrupt local header"));
        }
        let lname = rd16(data, local + 26).ok_or("truncated zip")? as usize;
        let lextra = rd16(data, local + 28).ok_or("truncated zip")? as usize;
        let body = slice(data, local + 30 + lname + lextra, compressed)
            .ok_or_else(|| format!("{name}: data lies outside the file"))?;
        let bytes = match method {
            METHOD_STORED => body.to_vec(),
            METHOD_DEFLATE => decompress_to_vec_with_limit(body, size)
                .map_err(|e| format!("{name}: corrupt DEFLATE data ({:?})", e.status))?,
            m => return Err(format!("{name}: unsupported compression method {m}")),
        };
        if bytes.len() != size || crc32fast::hash(&bytes) != crc {
            return Err(format!("{name}: CRC or size mismatch (corrupt archive)"));
        }
        out.push((name, bytes));
    }
    Ok(out)
}

fn find_end(data: &[u8]) -> Option<usize> {
    if data.len() < 22 {
        return None;
    }
    let lowest = data.len().saturating_sub(22 + u16::MAX as usize);
    (lowest..=data.len() - 22)
        .rev()
        .find(|&i| rd32(data, i) == Some(END_SIG))
}

fn slice(d: &[u8], at: usize, len: usize) -> Option<&[u8]> {
    d.get(at..at.checked_add(len)?)
}
fn rd16(d: &[u8], at: usize) -> Option<u16> {
    slice(d, at, 2).map(|b| u16::from_le_bytes([b[0], b[1]]))
}
fn rd32(d: &[u8], at: usize) -> Option<u32> {
    slice(d, at, 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}
fn put16(o: &mut Vec<u8>, v: u16) {
    o.extend_from_slice(&v.to_le_bytes());
}
fn put32(o: &mut Vec<u8>, v: u32) {
    o.extend_from_slice(&v.to_le_bytes());
}

/// MS-DOS time and date fields (UTC; 2-second resolution; clamped to 1980…2107).
pub fn dos_date_time(unix_ms: f64) -> (u16, u16) {
    let secs = if unix_ms.is_finite() {
        (unix_ms / 1000.0).floor() as i64
    } else {
        0
    };
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if y < 1980 {
        return (0, (1 << 5) | 1);
    }
    let y = y.min(2107);
    let time = ((rem / 3600) << 11) | (((rem % 3600) / 60) << 5) | ((rem % 60) / 2);
    let date = ((y - 1980) << 9) | ((m as i64) << 5) | d as i64;
    (time as u16, date as u16)
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}
