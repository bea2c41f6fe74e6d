package config

import "errors"

// Sentinels carried by the errors Set, SetArgs, LoadFile and LoadEnv return;
// test with errors.Is. The error's text is Redis's own reply or reason,
// because pkg/command sends it to clients verbatim.
var (
	ErrUnknown   = errors.New("config: unknown directive")
	ErrImmutable = errors.New("config: directive is immutable")
	ErrProtected = errors.New("config: directive is protected")
	ErrDuplicate = errors.New("config: directive given twice")
	ErrInvalid   = errors.New("config: invalid value")
	ErrApply     = errors.New("config: applying the new value failed")
	ErrFile      = errors.New("config: bad configuration file")
)

// SetError is the error Set returns. Error() is Redis 7.0's CONFIG SET error
// reply without the leading "ERR ", e.g.
//
//	CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value
//
// Unwrap gives one of ErrUnknown, ErrImmutable, ErrProtected, ErrDuplicate,
// ErrInvalid or ErrApply.
type SetError struct {
	Name   string // the directive as Redis names it in the reply
	Reason string // Redis's reason text, "" when Redis gives none
	Kind   error  // sentinel
	Cause  error  // the OnChange hook's error for ErrApply, else nil
}

func (e *SetError) Error() string {
	if e.Kind == ErrUnknown {
		return "Unknown option or number of arguments for CONFIG SET - '" + e.Name + "'"
	}
	if e.Reason == "" {
		return "CONFIG SET failed (possibly related to argument '" + e.Name + "')"
	}
	return "CONFIG SET failed (possibly related to argument '" + e.Name + "') - " + e.Reason
}

// Unwrap returns the sentinel and, for a failed hook, the hook's error.
func (e *SetError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Kind, e.Cause}
	}
	return []error{e.Kind}
}

// FileError is a configuration error found while loading a file, an
// argument list or the environment. Reason is the text Redis prints under
// "*** FATAL CONFIG FILE ERROR ***" for the same line (e.g. "Bad directive
// or wrong number of arguments"); Line is 1-based, 0 when there is no line
// (flags, environment).
type FileError struct {
	File   string // path, "" for flags; "environment" for LoadEnv
	Line   int
	Text   string // the offending line as written, trimmed
	Reason string
	Err    error // underlying I/O error, if any
}

func (e *FileError) Error() string {
	where := e.File
	if e.Line > 0 {
		where += ":" + itoa(int64(e.Line))
	}
	if where != "" {
		where += ": "
	}
	if e.Text != "" {
		return "config: " + where + ">>> '" + e.Text + "': " + e.Reason
	}
	return "config: " + where + e.Reason
}

// Unwrap returns ErrFile and the underlying error.
func (e *FileError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrFile, e.Err}
	}
	return []error{ErrFile}
}

// Fatal formats the error as redis-server prints it before exiting, with
// version standing in for Redis's version string.
func (e *FileError) Fatal(version string) string {
	s := "\n*** FATAL CONFIG FILE ERROR (" + version + ") ***\n"
	if e.Line > 0 {
		s += "Reading the configuration file, at line " + itoa(int64(e.Line)) + "\n>>> '" + e.Text + "'\n"
	}
	return s + e.Reason + "\n"
}
