import { runShard } from '../helpers/shard.js'

runShard(import.meta.url)
