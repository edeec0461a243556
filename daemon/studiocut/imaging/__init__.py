"""imaging: the stages of one photo (decode, model mask, matte, frame, composite, encode)
and the pipeline that runs them top to bottom.
"""
