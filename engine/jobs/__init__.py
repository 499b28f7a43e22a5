"""Background work on RQ: job registry, transactional outbox, runner, worker, scheduler."""
