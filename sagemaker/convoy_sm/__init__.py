"""convoy's SageMaker container contract, standard library only.

The `train` and `serve` entry points (sagemaker/train, sagemaker/serve) are thin: they call
training.main() and serving.main(). The pieces are apart so tests can check each one:
paths (the /opt/ml layout), hyperparameters (strings -> convoy-train flags), channels
(input/data/<channel> -> one --data source), mpi (role and mpirun command for several
hosts), child (running convoy-train with SIGTERM forwarded), requests (the AWS API calls
that launch.py makes or, with --dry-run, writes).
"""
