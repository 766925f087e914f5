# TS-FSAR's model (yaozhang0417/TS-FSAR trainers/model.py LSN,
# trainers/ts_fsar.py; the Metatrain yamls' LSN node): OpenAI CLIP ViT-B/16
# frozen (VIDEO.HEAD.BACKBONE_NAME vit-b-16, HuggingFace format; the same
# weights as open_clip's 'openai'), run without an autograd graph; a ladder
# side network of 12 blocks of width 256 (LSN.OUTPUT_DIM; 4 heads,
# MLP_RATIO 4) reading every CLIP layer, temporal attention in side blocks
# 6, 8, 10 (TEMP_LAYERS), learnable gates (USE_GATE learnable, GATE_ALPHA 0,
# GATE_T 0.1), initialised from CLIP's blocks by PCA (prune_and_initialize);
# the frozen text tower embeds each class's description sentences. A recipe
# sets the head and the description files. Checkpoints keep the trained
# parts only; loading one reads the frozen tower from `pretrained`.
_base_ = ['./clip_vit-b16.py']
model = dict(
    backbone=dict(
        type='OpenCLIPSide',
        num_frames=8,  # DATA.NUM_INPUT_FRAMES
        side=dict(
            type='LadderSideNetwork',
            embed_dims=256,  # LSN.OUTPUT_DIM (= EMBED_DIM)
            mlp_ratio=4.0,  # LSN.MLP_RATIO
            temporal_layers=(6, 8, 10),  # LSN.TEMP_LAYERS
            gate_init=0.0,  # LSN.GATE_ALPHA
            gate_temperature=0.1),  # LSN.GATE_T
        init_side='pca',
        save_trainable_only=True),
    text_encoder=dict(type='OpenCLIPText'))
