#include "engine/event.h"

#include <utility>

#include "engine/cuda_backend.h"
#include "engine/error.h"

namespace convoy {

Event::Event(Device device) {
  if (!device.is_cuda()) fail("an event needs a CUDA device, got ", device.to_string());
  event_ = cuda_backend::event_create(device.index);
}

Event::~Event() { cuda_backend::event_destroy(event_); }

Event::Event(Event&& other) noexcept
    : event_(std::exchange(other.event_, nullptr)), recorded_(std::exchange(other.recorded_, false)) {}

Event& Event::operator=(Event&& other) noexcept {
  if (this != &other) {
    cuda_backend::event_destroy(event_);
    event_ = std::exchange(other.event_, nullptr);
    recorded_ = std::exchange(other.recorded_, false);
  }
  return *this;
}

void Event::record(void* stream) {
  if (!event_) fail("Event::record on an empty event");
  cuda_backend::event_record(event_, stream);
  recorded_ = true;
}

void Event::make_wait(void* stream) const {
  if (recorded_) cuda_backend::stream_wait_event(stream, event_);
}

void Event::synchronize() const {
  if (recorded_) cuda_backend::event_synchronize(event_);
}

bool Event::done() const { return !recorded_ || cuda_backend::event_done(event_); }

}  // namespace convoy
