// Replaces global operator new/delete for the unit_acl binary to count
// allocations. Kept in its own file so no inlined pair confuses the compiler.
#include "alloc_counter.h"

#include <cstdlib>
#include <new>

namespace {
thread_local long g_allocations = 0;
}

namespace sluice::testing {
long allocations() {
  return g_allocations;
}
}  // namespace sluice::testing

void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;  // NOLINT(cppcoreguidelines-no-malloc)
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  return operator new(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}  // NOLINT(cppcoreguidelines-no-malloc)
void operator delete[](void* p) noexcept {
  std::free(p);
}  // NOLINT(cppcoreguidelines-no-malloc)
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}  // NOLINT
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}  // NOLINT
// The nothrow forms too (std::stable_sort's temporary buffer uses them): left
// to the library, their blocks would come from its own operator new and reach
// the free() above, which AddressSanitizer reports as a mismatch.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  ++g_allocations;
  return std::malloc(n ? n : 1);  // NOLINT(cppcoreguidelines-no-malloc)
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return operator new(n, std::nothrow);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}  // NOLINT(cppcoreguidelines-no-malloc)
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}  // NOLINT(cppcoreguidelines-no-malloc)
