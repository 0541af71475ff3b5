// The emulated device's state, shared by its memory (device_memory.cpp) and its streams
// (streams.cpp). One recursive mutex guards everything: queued work runs under it, on the
// thread that forced it, and may force other streams (an event wait).
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace convoy::kernels::emulated::detail {

struct Stream;

// A vector clock over all streams (index: Stream::id): clock[s] = n says "after the first n
// operations of stream s". Two operations on different streams are ordered only through an
// event wait or a host synchronize, which carry these clocks.
using Clock = std::vector<uint64_t>;
void join(Clock& into, const Clock& other);
bool ordered_after(const Clock& c, int stream, uint64_t seq);  // c has seen op `seq` of `stream`

// One access of queued work to device memory, kept per block to find unordered conflicts.
struct Access {
  int stream = 0;
  uint64_t seq = 0;        // the operation's position on its stream (1-based)
  std::size_t begin = 0, end = 0;  // byte offsets in the block
  bool write = false;
  std::string what;        // "kernel add (y)", for messages
};

// One device allocation: its own mapping with a guard page on each side.
struct Block {
  char* mapping = nullptr;
  std::size_t mapping_bytes = 0;
  char* base = nullptr;        // the usable bytes [base, base + capacity)
  std::size_t capacity = 0;
  int device = 0;
  // In host order (what the next call may use) and in compute-stream order (what queued
  // work may touch when it runs): in use, and for how many bytes from base.
  std::size_t live_bytes = 0;  // 0 = free
  std::size_t live_bytes_in_stream_order = 0;
  std::map<const Stream*, int> queued_uses;  // work queued and not yet run, per stream
  std::vector<Access> accesses;              // recent accesses not yet known to be ordered
};

// Page-locked host memory, tracked so that async copies can insist on it.
struct PinnedBlock {
  char* base = nullptr;
  std::size_t bytes = 0;
  std::map<const Stream*, int> queued_uses;
};

// A use of memory by queued work, checked again when the work runs.
struct Use {
  std::string arg;
  const void* ptr;
  std::size_t bytes;
  enum Kind { device, pinned, pageable } kind;
  bool write = false;
  const char* block = nullptr;  // base of its device or pinned block, for the queued-use counts
};

struct Op {
  uint64_t seq = 0;
  std::string name;
  std::vector<Use> uses;
  std::function<void()> work;
};

struct Stream {
  int id = 0;        // index into every Clock
  int device = 0;
  std::string role;  // "compute", "copy"
  std::deque<Op> queue;
  uint64_t queued = 0, done = 0;
  Clock clock;       // what its next operation is ordered after
};

struct Event {
  int device = 0;
  Stream* stream = nullptr;  // null before the first record
  uint64_t seq = 0;          // done when stream->done >= seq
  Clock clock;               // what the recorded point is ordered after (itself included)
};

struct DeviceState {
  std::unique_ptr<Stream> compute, copy;
  std::string failure;  // set by an error found while queued work ran: the device is unusable
};

struct State {
  std::recursive_mutex mutex;
  std::vector<Stream*> streams;  // by id
  Clock host;       // what the host has waited for
  int devices = 0;
  std::string reason;
  std::vector<DeviceState> device;
  std::map<const char*, Block> blocks;          // by base
  std::map<const char*, PinnedBlock> pinned;    // by base
};

State& state();  // built on first use, never destroyed (tensors may be freed during exit)
using Lock = std::lock_guard<std::recursive_mutex>;

// Throws when `device` is out of range or unusable after an earlier error.
void check_usable(int device, const char* call);
// Records an error that cannot be thrown where it was found (a free inside a destructor):
// the device becomes unusable and the next call on it throws the message.
void fail_later(int device, const std::string& message) noexcept;

// The block holding [ptr, ptr + bytes) in use, or null; `why` says what is wrong otherwise.
Block* live_block(const void* ptr, std::size_t bytes, bool stream_order, std::string* why);
PinnedBlock* pinned_block(const void* ptr, std::size_t bytes);
std::string describe(const void* ptr);  // "0x...", for messages

Stream* stream_of(int device, void* handle, const char* call);

}  // namespace convoy::kernels::emulated::detail

namespace convoy::kernels::emulated::detail {
// Queues bookkeeping (a block handed out or dying) on the device's compute stream, so that it
// takes effect in stream order.
void enqueue_on_compute(int device, std::string name, std::function<void()> work);
}  // namespace convoy::kernels::emulated::detail
