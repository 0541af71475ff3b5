// A CUDA event owned by C++: it orders work on one stream after work queued on another
// without blocking the host (record on the producer, wait on the consumer). Move-only;
// built only for a CUDA device (the backend explains when there is none).
#pragma once
#include "engine/device.h"

namespace convoy {

class Event {
 public:
  Event() = default;
  explicit Event(Device device);
  ~Event();
  Event(Event&& other) noexcept;
  Event& operator=(Event&& other) noexcept;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  bool defined() const { return event_ != nullptr; }
  void record(void* stream);             // marks what `stream` has queued so far
  void make_wait(void* stream) const;    // `stream`'s later work starts after the mark
  void synchronize() const;              // the host waits for the mark (no-op before a record)
  bool done() const;                     // the mark has passed (true before a record)

 private:
  void* event_ = nullptr;  // cudaEvent_t
  bool recorded_ = false;
};

}  // namespace convoy
