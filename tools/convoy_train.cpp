// convoy-train: flags -> TrainRunOptions -> convoy::run_training.
#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include "engine/lr_schedule.h"
#include "tools/cli_checks.h"
#include "tools/tool_main.h"
#include "train/stop_request.h"
#include "train/trainer.h"

int run_tool(int argc, char** argv) {
  convoy::TrainRunOptions o;
  convoy::TrainOptions& t = o.train;  // the library's defaults are the recipe (train/trainer.h)
  std::string schedule = convoy::to_string(t.schedule.kind);
  double warmup = t.schedule.warmup_epochs;
  bool no_augment = false, no_progress = false, no_nesterov = false;

  CLI::App app{"Train a convolutional network on CIFAR-10.\n"
               "Prints one key=value metrics line per epoch on stdout; writes OUT/model.convoy and "
               "OUT/report.json, OUT/metrics.jsonl and checkpoints (docs/checkpoints.md).\n"
               "SIGTERM or SIGINT: finish the step, write a checkpoint, exit (0 for SIGTERM)."};
  app.add_option("--data", o.data_spec,
                 "CIFAR-10: a folder of binary batches, cifar-10-binary.tar.gz, an image-folder tree "
                 "(train/<class>/*, test/<class>/*) or a .tar.gz of one, or 'synthetic' (10,000 generated images; "
                 "'synthetic:N' for N). "
                 "Default: $CONVOY_DATA, else ./data/ (downloaded there if missing)");
  app.add_option("--model", o.model_spec, "quick | resnet | FILE.json")->capture_default_str();
  app.add_option("--epochs", t.epochs, "Passes over the training set")->capture_default_str()->check(convoy::tools::positive());
  app.add_option("--batch-size", t.batch_size, "Images per step")->capture_default_str()->check(convoy::tools::positive());
  app.add_option("--lr", t.schedule.lr, "Learning rate (the peak for one_cycle)")->capture_default_str()->check(convoy::tools::positive());
  app.add_flag("--force-lr", t.force_lr, "Train with an --lr above 10 (refused otherwise: it diverges)");
  app.add_option("--schedule", schedule, "constant | step | cosine | one_cycle")->capture_default_str();
  app.add_option("--warmup-epochs", warmup, "Linear warm-up (constant, step, cosine)")->capture_default_str();
  app.add_option("--momentum", t.sgd.momentum, "SGD momentum")->capture_default_str();
  app.add_flag("--no-nesterov", no_nesterov, "Plain momentum instead of Nesterov");
  app.add_option("--weight-decay", t.sgd.weight_decay, "L2 weight decay (not on batch-norm/bias)")->capture_default_str();
  app.add_option("--label-smoothing", t.label_smoothing, "Label smoothing in [0, 1)")->capture_default_str()->check(CLI::Range(0.0, 0.999));
  app.add_flag("--no-augment", no_augment, "No random crop / flip");
  app.add_option("--cutout", t.cutout, "Cutout square side in pixels (0 = off)")->capture_default_str()->check(convoy::tools::non_negative());
  app.add_option("--seed", t.seed, "Random seed (initialisation, shuffling, augmentation)")->capture_default_str()->check(convoy::tools::non_negative());
  app.add_option("--threads", o.threads, "CPU threads (0 = all)")->capture_default_str()->check(convoy::tools::non_negative());
  app.add_option("--device", o.device, "cpu | cuda | cuda:N | auto")->capture_default_str();
  app.add_option("--kernels", o.kernels, "own | vendor (cuBLAS/cuDNN on CUDA)")->capture_default_str();
  app.add_option("--train-batches", o.train_batches, "Use only data_batch_1..K of the five training batches")
      ->capture_default_str()->check(CLI::Range(1, 5));
  app.add_option("--out", o.out_dir, "Output folder")->capture_default_str();
  app.add_flag("--no-progress", no_progress, "No progress bar even on a terminal");
  app.add_flag("--host-input", t.host_input, "On a GPU too, normalise and augment on the host");
  app.add_flag("--tta", t.flip_tta,
               "Test-time augmentation in the per-epoch evaluation: average the logits of each test image and its "
               "mirror image (twice the evaluation work; training is unchanged)");
  app.add_option("--eval-every", t.eval_every,
                 "Evaluate the test set after every N-th epoch and after the last (0 = after the last only; the "
                 "skipped epochs' lines have no test_ fields)")
      ->capture_default_str()->check(convoy::tools::non_negative());
  // Data-parallel under mpirun (docs/distributed.md): --batch-size is then the global batch.
  app.add_option("--dist", o.dist_backend, "Communicator under mpirun: auto | local | mpi | nccl")->capture_default_str();
  app.add_option("--bucket-mb", t.parallel.bucket_mb, "Gradient allreduce bucket cap in MB (data-parallel)")
      ->capture_default_str()->check(convoy::tools::positive());
  app.add_option("--collective-timeout", o.collective_timeout_s,
                 "Seconds a rank may wait for the others in one collective before it ends the job (data-parallel; "
                 "0 = no limit)")
      ->capture_default_str()->check(convoy::tools::non_negative());
  app.add_flag("--sync-bn", t.parallel.sync_batchnorm, "Batch-norm statistics over the global batch (data-parallel)");
  std::string compression = "none";
  app.add_option("--grad-compression", compression,
                 "Gradient allreduce in 16 bits (data-parallel): none | fp16 | bf16 (half the bytes on the wire; "
                 "gradients rounded to 16 bits)")
      ->capture_default_str();
  app.add_option("--checkpoint-dir", o.checkpoint_dir,
                 "Where checkpoints go. Default: OUT/checkpoints, or the folder --resume found them in");
  app.add_option("--checkpoint-every", o.checkpoint_every,
                 "Steps between checkpoints (0 = only at each epoch end; there is always one per epoch end)")
      ->capture_default_str()->check(convoy::tools::non_negative());
  app.add_option("--keep-checkpoints", o.keep_checkpoints, "Keep the newest K checkpoints")
      ->capture_default_str()->check(convoy::tools::positive());
  app.add_option("--resume", o.resume_dir,
                 "Continue the run from the newest checkpoint in DIR (or DIR/checkpoints); the other options "
                 "must be the same as the run's");
  app.add_flag("--overwrite", o.overwrite,
               "Replace the run already in OUT (its model.convoy, report.json, metrics.jsonl and checkpoints); "
               "without it, or --resume, such a folder is refused");
  app.add_option("--log-every", o.log_every, "Steps between OUT/metrics.jsonl records (0 = epoch records only)")
      ->capture_default_str()->check(convoy::tools::non_negative());
  CONVOY_PARSE(app, argc, argv);

  t.schedule.kind = convoy::parse_lr_schedule_kind(schedule);
  t.schedule.warmup_epochs = warmup;
  t.augment = !no_augment;
  t.progress = !no_progress;
  t.sgd.nesterov = !no_nesterov;
  t.parallel.compression = convoy::dist::parse_compression(compression);
  // SIGTERM (SageMaker StopTrainingJob) or Ctrl-C: finish the step, checkpoint, exit.
  convoy::install_stop_signal_handlers();
  o.should_stop = convoy::stop_requested;
  nlohmann::json report = convoy::run_training(o, std::cout, std::cerr);
  if (report.value("stopped", false)) {
    const int sig = convoy::stop_signal();
    std::cerr << "convoy-train: stopped by " << (sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a stop request")
              << "\n";
    return sig == SIGINT ? 130 : 0;
  }
  return 0;
}
