#pragma once
// Allocations made by this thread so far (global operator new is replaced in
// alloc_counter.cpp), so tests can check that a path does not allocate.
namespace sluice::testing {
long allocations();
}
