"""Drop-in reward adapters, one module per framework, each shaped as that framework calls it:

- verl: compute_score / compute_score_async (the reward loop), compute_score_batch (legacy)
- trl: make_reward_func (GRPOTrainer's reward_funcs)
- slime: custom_rm / batched_custom_rm (--custom-rm-path)
- nemo_rl: TinyVEnvironment (an EnvironmentInterface Ray actor; register())
- areal: reward_fn (AReaL's RLVR workflows, in its process pool)
- verifiers: tinyv_reward (a plugged reward of verifiers / prime-rl tasksets)
- roll: TinyVRewardWorker (a ROLL reward worker)

OpenRLHF, slime's remote_rm and NeMo Gym need no Python: the server answers their
HTTP shapes itself (see the README). Every adapter reads the server address from
TINYV_URL unless one is passed, and reports the same result fields (RESULT_KEYS).
"""

from ._common import RESULT_KEYS, result_fields
from ._prompts import question_of, strip_special_tokens

__all__ = ["RESULT_KEYS", "question_of", "result_fields", "strip_special_tokens"]
