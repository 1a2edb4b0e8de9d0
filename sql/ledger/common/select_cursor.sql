-- purpose: a feed's cursor (result feeds, package event feeds).
SELECT cursor FROM result_source WHERE source = :source
