// Package prefetch has the CPU's prefetch instruction for the lookups that
// warm cache lines ahead of a pipeline's commands (the store's index, the
// dicts of large collections): Line asks for a line without waiting for
// it, so that many misses are in flight at once instead of one after the
// other.
package prefetch
