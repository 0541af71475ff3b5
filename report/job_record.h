// The SageMaker job record beside a run: sagemaker-job.json, which launch.py writes from
// DescribeTrainingJob when the job ends (sagemaker/convoy_sm/job_record.py). It holds what
// AWS bills: BillableTimeInSeconds per instance, the instance type and count.
#pragma once
#include <optional>
#include <string>

#include "report/run_report.h"

namespace convoy::report {

inline constexpr const char* kJobRecordName = "sagemaker-job.json";

// The record for a run path as convoy-report takes it: RUN/sagemaker-job.json for a folder;
// beside a report.json or archive, or one folder up from JOB/output/model.tar.gz. The path of
// the record, or nullopt when there is none.
std::optional<std::string> find_job_record(const std::string& run_path);

// Marks the run as a SageMaker job and takes the billable and training seconds, instance
// type and count, region and job name from the record. Throws convoy::Error naming the file
// when it is not such a record.
void apply_job_record(RunSummary& run, const std::string& record_path);

}  // namespace convoy::report
