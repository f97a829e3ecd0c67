"""The reader: a small cross-encoder this project trains itself, which reads a question beside
each candidate answer sentence and scores it, with a learnt "no answer" option.

- `data`: training examples from CMRC 2018 train and DRCD (span offsets checked, sentences cut
  exactly as the index cuts them), with English questions made by glossing through CC-CEDICT;
- `model`: the network (the lower layers of the multilingual-e5-small encoder and a linear head)
  and the shipped delta's manifest;
- `train`: `ragqa train reader`, resumable, seeded;
- `runtime`: the int8 ONNX scorer the answer stage calls.
"""
