#!/usr/bin/env bash
# Usage: backup.sh SOURCE_DIR DEST_DIR
# Copies SOURCE_DIR to DEST_DIR/<name>-backup, creating DEST_DIR if needed.
set -euo pipefail
src="$1"
dest="$2"
name="$(basename "$src")"
mkdir -p "$dest"
cp -r "$source" "$dest/$name-backup"
echo "backed up $src to $dest/$name-backup"
