// The emulated device's streams: queues of work that run only when something waits for them,
// events as (stream, position) marks, checked copies and kernel launches.
#include <algorithm>
#include <cstring>
#include <sstream>

#include "engine/error.h"
#include "kernels/emulated/device_runtime.h"
#include "kernels/emulated/runtime_state.h"

namespace convoy::kernels::emulated {
namespace detail {
namespace {

DeviceState& device_state(int device) { return state().device[static_cast<std::size_t>(device)]; }

Stream& lazy(std::unique_ptr<Stream>& s, int device, const char* role) {
  if (!s) {
    s = std::make_unique<Stream>();
    s->id = static_cast<int>(state().streams.size());
    s->device = device;
    s->role = role;
    state().streams.push_back(s.get());
  }
  return *s;
}

std::string stream_name(int id) {
  const Stream* s = state().streams[static_cast<std::size_t>(id)];
  return "the " + s->role + " stream of cuda:" + std::to_string(s->device);
}

// The host has waited for everything `c` covers: later work is ordered after it, and the
// accesses it covers can no longer race with anything.
void host_waited_for(const Clock& c) {
  State& st = state();
  join(st.host, c);
  for (auto& [base, block] : st.blocks) {
    auto& a = block.accesses;
    a.erase(std::remove_if(a.begin(), a.end(),
                           [&](const Access& x) { return ordered_after(st.host, x.stream, x.seq); }),
            a.end());
  }
}

// Device memory accesses of an operation about to be queued with clock `c` as operation `seq`
// of `stream`: each must be ordered after every conflicting access of another stream.
void check_races(const Op& op, const Stream& stream, const Clock& c) {
  State& st = state();
  for (const Use& u : op.uses) {
    if (u.kind != Use::device || !u.block) continue;
    Block& b = st.blocks.at(u.block);
    const std::size_t begin = static_cast<std::size_t>(static_cast<const char*>(u.ptr) - b.base),
                      end = begin + u.bytes;
    for (const Access& a : b.accesses) {
      if (a.stream == stream.id || a.end <= begin || end <= a.begin || !(a.write || u.write)) continue;
      if (ordered_after(c, a.stream, a.seq)) continue;
      fail("emulated CUDA: race: ", op.name, " on ", stream_name(stream.id), u.write ? " writes " : " reads ",
           u.arg, " (bytes ", begin, " to ", end, " of the device block at ", describe(b.base), "), which ", a.what,
           " on ", stream_name(a.stream), a.write ? " writes" : " reads",
           ", and no event wait or synchronize orders the two (on a GPU either may run first)");
    }
  }
}

void record_accesses(const Op& op, const Stream& stream) {
  State& st = state();
  for (const Use& u : op.uses) {
    if (u.kind != Use::device || !u.block) continue;
    Block& b = st.blocks.at(u.block);
    const std::size_t begin = static_cast<std::size_t>(static_cast<const char*>(u.ptr) - b.base);
    b.accesses.push_back(Access{stream.id, op.seq, begin, begin + u.bytes, u.write, op.name + " (" + u.arg + ")"});
  }
}

std::map<const Stream*, int>* use_counts(const Use& u) {
  State& s = state();
  if (u.kind == Use::device) {
    auto it = s.blocks.find(u.block);
    return it == s.blocks.end() ? nullptr : &it->second.queued_uses;
  }
  if (u.kind == Use::pinned) {
    auto it = s.pinned.find(u.block);
    return it == s.pinned.end() ? nullptr : &it->second.queued_uses;
  }
  return nullptr;
}

void count_uses(const Op& op, const Stream* stream, int delta) {
  for (const Use& u : op.uses)
    if (auto* counts = use_counts(u)) (*counts)[stream] += delta;
}

// Checks a use where it is queued (host order) and resolves its block.
void check_queued(const char* call, Use& u, int device) {
  std::string why;
  if (u.kind == Use::device) {
    if (u.ptr == nullptr && u.bytes == 0) return;
    Block* b = u.ptr ? live_block(u.ptr, u.bytes, /*stream_order=*/false, &why) : nullptr;
    if (!u.ptr) why = "is null";
    if (b && b->device != device) {
      std::ostringstream os;
      os << "is memory of cuda:" << b->device << ", not of cuda:" << device << " where the work runs";
      why = os.str();
      b = nullptr;
    }
    if (!b)
      fail("emulated CUDA: ", call, ": ", u.arg, " = ", describe(u.ptr), " (", u.bytes, " bytes) ", why);
    u.block = b->base;
    return;
  }
  std::string ignored;
  if (u.ptr && live_block(u.ptr, 1, false, &ignored))
    fail("emulated CUDA: ", call, ": ", u.arg, " = ", describe(u.ptr), " (", u.bytes,
         " bytes) is device memory where host memory is expected");
  if (PinnedBlock* p = pinned_block(u.ptr, u.bytes)) {
    u.kind = Use::pinned;
    u.block = p->base;
  }
}

// Checks a use again when its work runs (compute-stream order for device memory).
void check_running(const Op& op, const Use& u) {
  if (u.kind == Use::device && u.block) {
    std::string why;
    if (!live_block(u.ptr, u.bytes, /*stream_order=*/true, &why))
      fail(op.name, ": when it ran, ", u.arg, " = ", describe(u.ptr), " (", u.bytes, " bytes) ", why);
  }
  if (u.kind == Use::pinned && u.block && state().pinned.find(u.block) == state().pinned.end())
    fail(op.name, ": when it ran, the pinned host memory at ", describe(u.ptr), " had been freed");
}

// Runs `stream`'s queue up to position `upto`. An error stops the device: its queues are
// dropped and every later call on it throws.
void drain(Stream& stream, uint64_t upto) {
  while (stream.done < upto && !stream.queue.empty()) {
    Op op = std::move(stream.queue.front());
    stream.queue.pop_front();
    try {
      for (const Use& u : op.uses) check_running(op, u);
      op.work();
    } catch (const std::exception& e) {
      count_uses(op, &stream, -1);
      DeviceState& d = device_state(stream.device);
      for (Stream* s : {d.compute.get(), d.copy.get()}) {
        if (!s) continue;
        for (const Op& dropped : s->queue) count_uses(dropped, s, -1);
        s->queue.clear();
        s->done = s->queued;
      }
      const std::string message = std::string("queued work failed: ") + e.what();
      if (d.failure.empty()) d.failure = message;
      fail("emulated CUDA device ", stream.device, ": ", message);
    }
    count_uses(op, &stream, -1);
    ++stream.done;
  }
}

void enqueue(Stream& stream, Op op) {
  Clock c = stream.clock;
  join(c, state().host);
  if (c.size() <= static_cast<std::size_t>(stream.id)) c.resize(static_cast<std::size_t>(stream.id) + 1, 0);
  op.seq = stream.queued + 1;
  c[static_cast<std::size_t>(stream.id)] = op.seq;
  check_races(op, stream, c);
  record_accesses(op, stream);
  stream.clock = std::move(c);
  count_uses(op, &stream, +1);
  stream.queue.push_back(std::move(op));
  ++stream.queued;
}

Event& event_of(void* handle) {
  if (!handle) fail("emulated CUDA: null event");
  return *static_cast<Event*>(handle);
}

}  // namespace

void join(Clock& into, const Clock& other) {
  if (into.size() < other.size()) into.resize(other.size(), 0);
  for (std::size_t i = 0; i < other.size(); ++i) into[i] = std::max(into[i], other[i]);
}

bool ordered_after(const Clock& c, int stream, uint64_t seq) {
  return static_cast<std::size_t>(stream) < c.size() && c[static_cast<std::size_t>(stream)] >= seq;
}

Stream* stream_of(int device, void* handle, const char* call) {
  if (!handle) {
    check_usable(device, call);
    return &lazy(device_state(device).compute, device, "compute");
  }
  for (const DeviceState& d : state().device)
    for (const Stream* s : {d.compute.get(), d.copy.get()})
      if (s == handle) {
        if (device >= 0 && s->device != device)
          fail("emulated CUDA: ", call, ": the ", s->role, " stream of cuda:", s->device, " used for cuda:", device);
        check_usable(s->device, call);
        return const_cast<Stream*>(s);
      }
  fail("emulated CUDA: ", call, ": ", describe(handle), " is not a stream of the emulated device");
}

void enqueue_on_compute(int device, std::string name, std::function<void()> work) {
  Stream& s = lazy(device_state(device).compute, device, "compute");
  Op op;
  op.name = std::move(name);
  op.work = std::move(work);
  enqueue(s, std::move(op));
}

}  // namespace detail

using namespace detail;

void* compute_stream(int device) {
  Lock lock(state().mutex);
  check_usable(device, "compute_stream");
  return &lazy(device_state(device).compute, device, "compute");
}

void* copy_stream(int device) {
  Lock lock(state().mutex);
  check_usable(device, "copy_stream");
  return &lazy(device_state(device).copy, device, "copy");
}

void stream_synchronize(int device, void* stream) {
  Lock lock(state().mutex);
  Stream* s = stream_of(device, stream, "stream_synchronize");
  drain(*s, s->queued);
  host_waited_for(s->clock);
}

void device_synchronize(int device) {
  Lock lock(state().mutex);
  check_usable(device, "device_synchronize");
  DeviceState& d = device_state(device);
  // The side stream first: work that should have waited for the compute stream and did not
  // then runs too early and shows it.
  if (d.copy) drain(*d.copy, d.copy->queued);
  if (d.compute) drain(*d.compute, d.compute->queued);
  for (Stream* s : {d.copy.get(), d.compute.get()})
    if (s) host_waited_for(s->clock);
}

void* event_create(int device) {
  Lock lock(state().mutex);
  check_usable(device, "event_create");
  auto* e = new Event();
  e->device = device;
  return e;
}

void event_destroy(void* event) noexcept { delete static_cast<Event*>(event); }

void event_record(void* event, int device, void* stream) {
  Lock lock(state().mutex);
  Event& e = event_of(event);
  Stream* s = stream_of(device, stream, "event_record");
  if (e.device != s->device)
    fail("emulated CUDA: event_record: an event of cuda:", e.device, " on a stream of cuda:", s->device);
  e.stream = s;
  e.seq = s->queued;
  e.clock = s->clock;
  if (e.clock.size() <= static_cast<std::size_t>(s->id)) e.clock.resize(static_cast<std::size_t>(s->id) + 1, 0);
  e.clock[static_cast<std::size_t>(s->id)] = s->queued;
}

void stream_wait_event(int device, void* stream, void* event) {
  Lock lock(state().mutex);
  Stream* s = stream_of(device, stream, "stream_wait_event");
  const Event mark = event_of(event);  // as recorded now, like cudaStreamWaitEvent
  if (!mark.stream) return;            // never recorded: nothing to wait for
  join(s->clock, mark.clock);
  Op op;
  op.name = "wait for an event of the " + mark.stream->role + " stream";
  op.work = [mark] { drain(*mark.stream, mark.seq); };
  enqueue(*s, std::move(op));
}

void event_synchronize(void* event) {
  Lock lock(state().mutex);
  const Event& e = event_of(event);
  check_usable(e.device, "event_synchronize");
  if (!e.stream) return;
  drain(*e.stream, e.seq);
  host_waited_for(e.clock);
}

bool event_done(void* event) {
  Lock lock(state().mutex);
  const Event& e = event_of(event);
  check_usable(e.device, "event_done");
  if (!e.stream) return true;
  if (e.stream->done < e.seq) return false;
  host_waited_for(e.clock);  // the host now knows it finished
  return true;
}

namespace {

const char* dir_name(Dir dir) {
  switch (dir) {
    case Dir::host_to_device: return "host to device";
    case Dir::device_to_host: return "device to host";
    case Dir::device_to_device: break;
  }
  return "device to device";
}

// The device whose stream orders a copy: that of its device-side pointer.
int device_of_copy(const char* call, void* dst, const void* src, std::size_t bytes, Dir dir) {
  const void* dev = dir == Dir::host_to_device ? dst : src;
  std::string why;
  Block* b = live_block(dev, bytes, false, &why);
  if (!b)
    fail("emulated CUDA: ", call, " (", dir_name(dir), ", ", bytes, " bytes): ",
         dir == Dir::host_to_device ? "destination " : "source ", describe(dev), " ", why);
  return b->device;
}

Op copy_op(const char* call, void* dst, const void* src, std::size_t bytes, Dir dir, int device) {
  Op op;
  op.name = std::string(call) + " (" + dir_name(dir) + ", " + std::to_string(bytes) + " bytes)";
  op.uses = {Use{"destination", dst, bytes, dir == Dir::device_to_host ? Use::pageable : Use::device, true},
             Use{"source", src, bytes, dir == Dir::host_to_device ? Use::pageable : Use::device, false}};
  for (Use& u : op.uses) check_queued(op.name.c_str(), u, device);
  op.work = [dst, src, bytes] { std::memmove(dst, src, bytes); };
  return op;
}

}  // namespace

void copy(void* dst, const void* src, std::size_t bytes, Dir dir) {
  if (bytes == 0) return;
  Lock lock(state().mutex);
  const int device = device_of_copy("copy", dst, src, bytes, dir);
  Stream* s = stream_of(device, nullptr, "copy");
  enqueue(*s, copy_op("copy", dst, src, bytes, dir, device));
  drain(*s, s->queued);
  host_waited_for(s->clock);
}

void copy_async(void* dst, const void* src, std::size_t bytes, Dir dir, int device, void* stream) {
  if (bytes == 0) return;
  Lock lock(state().mutex);
  Stream* s = stream_of(device, stream, "copy_async");
  const int owner = device_of_copy("copy_async", dst, src, bytes, dir);
  if (owner != s->device)
    fail("emulated CUDA: copy_async: memory of cuda:", owner, " copied on a stream of cuda:", s->device);
  Op op = copy_op("copy_async", dst, src, bytes, dir, owner);
  for (const Use& u : op.uses)
    if (u.kind == Use::pageable)
      fail("emulated CUDA: ", op.name, ": the host ", u.arg, " ", describe(u.ptr),
           " is pageable memory; an asynchronous copy needs page-locked memory (PinnedBuffer), or on a GPU "
           "it is a synchronous copy through a bounce buffer");
  enqueue(*s, std::move(op));
}

void launch(int device, void* stream, const char* kernel, const std::vector<Span>& args,
            std::function<void()> work) {
  Lock lock(state().mutex);
  Stream* s = stream_of(device, stream, kernel);
  Op op;
  op.name = std::string("kernel ") + kernel;
  for (const Span& a : args) {
    Use u{a.arg, a.ptr, a.bytes, Use::device, a.write};
    check_queued(kernel, u, device);
    if (u.block) op.uses.push_back(u);
  }
  op.work = std::move(work);
  enqueue(*s, std::move(op));
}

}  // namespace convoy::kernels::emulated
