//! The file an export is written to on the command line (`cris-server export --out`): it
//! holds families' data, so only its owner may read it (0600); it is written beside its place
//! and renamed into it when whole, so that no one ever opens half a file; and a file already
//! there is replaced only when asked.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why the file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{} exists already", .0.display())]
    Exists(PathBuf),
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A file being written: a temporary file in the same folder until [`OutFile::finish`]
/// renames it into place. Dropped unfinished, the temporary file is removed.
#[derive(Debug)]
pub struct OutFile {
    path: PathBuf,
    temp: PathBuf,
    file: Option<File>,
    replace: bool,
}

impl OutFile {
    /// Starts the file `path`, refused when it exists unless `replace`. Made before the
    /// export is, so that a folder that cannot be written to is told before anything is
    /// recorded.
    pub fn create(path: &Path, replace: bool) -> Result<OutFile, FileError> {
        if !replace && path.exists() {
            return Err(FileError::Exists(path.to_owned()));
        }
        let io = |source| FileError::Io {
            path: path.to_owned(),
            source,
        };
        let name = path
            .file_name()
            .ok_or_else(|| io(std::io::Error::other("not a file name")))?;
        let mut hidden = std::ffi::OsString::from(".");
        hidden.push(name);
        hidden.push(format!(".{}.part", std::process::id()));
        let temp = path.with_file_name(hidden);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&temp).map_err(io)?;
        let out = OutFile {
            path: path.to_owned(),
            temp,
            file: Some(file),
            replace,
        };
        // Whatever the umask took away or left: the owner reads and writes, no one else.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let file = out.file.as_ref().expect("just opened");
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(io)?;
        }
        Ok(out)
    }

    /// Writes `bytes`, makes them durable, and puts the file in its place.
    pub fn finish(mut self, bytes: &[u8]) -> Result<(), FileError> {
        let path = self.path.clone();
        let io = |source| FileError::Io {
            path: path.clone(),
            source,
        };
        let mut file = self.file.take().expect("finished once");
        file.write_all(bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
        drop(file);
        // Made meanwhile by someone else: still not replaced unasked.
        if !self.replace && path.exists() {
            return Err(FileError::Exists(path));
        }
        std::fs::rename(&self.temp, &path).map_err(io)?;
        // The rename itself survives a power cut once the folder is synced.
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if let Ok(folder) = File::open(folder) {
            let _ = folder.sync_all();
        }
        self.temp = PathBuf::new();
        Ok(())
    }
}

impl Drop for OutFile {
    fn drop(&mut self) {
        if !self.temp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_file_is_whole_its_owners_only_and_never_replaced_unasked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("visits.csv");
        let out = OutFile::create(&path, false).unwrap();
        assert!(!path.exists(), "not in its place before it is whole");
        out.finish(b"a;b\r\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"a;b\r\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        let err = OutFile::create(&path, false).unwrap_err();
        assert!(matches!(err, FileError::Exists(_)), "{err}");
        let out = OutFile::create(&path, true).unwrap();
        out.finish(b"c;d\r\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"c;d\r\n");

        // Made by someone else while the export ran: kept.
        let other = dir.path().join("other.csv");
        let out = OutFile::create(&other, false).unwrap();
        std::fs::write(&other, "theirs").unwrap();
        assert!(matches!(out.finish(b"ours"), Err(FileError::Exists(_))));
        assert_eq!(std::fs::read_to_string(&other).unwrap(), "theirs");

        // Given up: nothing left behind.
        drop(OutFile::create(&dir.path().join("given-up.csv"), false).unwrap());
        assert_eq!(entries(dir.path()), ["other.csv", "visits.csv"]);
    }
}
