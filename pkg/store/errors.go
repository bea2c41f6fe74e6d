package store

import "errors"

// Errors returned by Open.
var (
	ErrLocked  = errors.New("store: data directory is locked by another process")
	ErrCorrupt = errors.New("store: corrupt data") // wrapped with file and offset
)

// Errors returned by operations.
var (
	ErrClosed        = errors.New("store: closed")
	ErrNotFound      = errors.New("store: not found")
	ErrValueTooLarge = errors.New("store: value too large")
	ErrNoSpace       = errors.New("store: no space left on device")
	ErrReadOnly      = errors.New("store: writes refused after a failed write or sync")
)

// ErrBadKind is returned by DB.Set for a kind that is not a value kind.
var ErrBadKind = errors.New("store: invalid value kind")

// ErrWrongKind is returned by DB.AppendOp when the key holds a value of
// another kind than the operation's (a string, or another collection).
var ErrWrongKind = errors.New("store: operation against a key holding the wrong kind of value")

// ErrImageSize is returned by DB.SetImage when the image its fill wrote
// is not the size it was told: a caller bug, which writes nothing.
var ErrImageSize = errors.New("store: image of another size than announced")

// Errors of backups (backup.go).
var (
	// ErrBadBackup: Restore or VerifyBackup was given a file that is not a
	// complete, intact ToonStore backup (truncated, damaged, or something
	// else); wrapped with what is wrong.
	ErrBadBackup = errors.New("store: not a valid backup")
	// ErrNotEmpty: Restore's target directory already holds a store and
	// RestoreOptions.Force was not set.
	ErrNotEmpty = errors.New("store: restore target already holds a store (force replaces it)")
	// ErrBackupTarget: BackupFile was asked to write over one of the
	// store's own files.
	ErrBackupTarget = errors.New("store: backup file would replace a file of the store")
)
