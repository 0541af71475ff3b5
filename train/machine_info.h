// What machine a run happened on, for reports: CPU model, hardware threads, memory, GPU
// name, and where it ran: a SageMaker training job (instance type, host count, job name,
// from resourceconfig.json and the environment) or a local machine.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "engine/device.h"

namespace convoy {

nlohmann::json machine_info(Device device, int threads);

// The SageMaker part of machine_info: {"platform": "sagemaker"|"local", "instance_type",
// "host_count", "current_host", "training_job_name"} as far as known. Reads
// $CONVOY_SM_ROOT/input/config/resourceconfig.json (default /opt/ml/...) and the variables
// CONVOY_INSTANCE_TYPE, SM_CURRENT_INSTANCE_TYPE, TRAINING_JOB_NAME.
nlohmann::json platform_info();

}  // namespace convoy
