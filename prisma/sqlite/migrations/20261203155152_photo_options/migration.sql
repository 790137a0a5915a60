-- AlterTable
ALTER TABLE "files" ADD COLUMN "camera_make" TEXT;
ALTER TABLE "files" ADD COLUMN "camera_model" TEXT;

-- AlterTable (ADD COLUMN, not Prisma's table rebuild: same result, and the columns keep the order
-- the SQL Server migrations give them)
ALTER TABLE "import_jobs" ADD COLUMN "thumbnails" BOOLEAN NOT NULL DEFAULT false;
