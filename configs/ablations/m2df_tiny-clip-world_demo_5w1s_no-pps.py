# Ablation of CLIP-M2DF on the synthetic demo (no-pps); same budget as
# configs/m2df_tiny-clip-world_demo_5w1s.py (pretrained tiny CLIP).
_base_ = ['../m2df_tiny-clip-world_demo_5w1s.py']
model = dict(
    cls_head=dict(
        prompt_selector=dict(type='ProbabilityPromptSelector', mode='none')))
